  // ---- widget/visitor.js ---------------------------------------------------------------

  Widget.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text) return;
    this.input.value = '';
    this.autosize();
    this.typing(false);
    this.client.connect();
    var f = this.client.sendMessage({ type: 'message', text: text.slice(0, 4000) });
    this.visitorBubble(f.client_id, f.text, true);
    this.lastAuthor = null;
  };

  Widget.prototype.autosize = function () {
    var el = this.input;
    el.style.height = 'auto';
    el.style.height = Math.min(Math.max(el.scrollHeight + 2, 40), 120) + 'px';
  };

  /** Sends typing on at the first keystroke and off after 3 s without one (or on send). */
  Widget.prototype.typing = function (on) {
    var self = this;
    clearTimeout(this.typingOffTimer);
    if (on) {
      if (!this.typingOut) this.client.send({ type: 'typing', on: true }, true);
      this.typingOut = true;
      this.typingOffTimer = setTimeout(function () { self.typing(false); }, 3000);
    } else if (this.typingOut) {
      this.typingOut = false;
      this.client.send({ type: 'typing', on: false }, true);
    }
  };

  Widget.prototype.requestHuman = function () {
    this.client.connect();
    this.client.send({ type: 'request_human' });
    this.humanBtn.hidden = true;
  };

  Widget.prototype.end = function () {
    this.client.send({ type: 'end' });
  };

  Widget.prototype.newChat = function () {
    this.client.reset();
    this.log.replaceChildren(this.intro);
    this.bubbles = {};
    this.introSeen = false;
    this.intro.hidden = !this.look('greeting');
    this.lastAuthor = null;
    this.leaveCard.hidden = this.csatCard.hidden = this.queueCard.hidden = true;
    this.leaveShown = false;
    this.forgetConversation();
    this.client.connect();
    this.input.focus();
  };

  Widget.prototype.showLeave = function () {
    if (this.leaveShown) return;
    this.leaveShown = true;
    var t = this.t;
    var self = this;
    var card = this.leaveCard;
    var email = h('input', { class: 'field', type: 'email', required: true, autocomplete: 'email', 'aria-label': t('email'), placeholder: t('email') });
    var text = h('textarea', { class: 'field', required: true, maxlength: '4000', 'aria-label': t('message'), placeholder: t('placeholder') });
    var form = h('form', { onsubmit: function (e) {
      e.preventDefault();
      if (!form.reportValidity()) return;
      self.client.send({ type: 'leave_message', email: email.value.trim(), text: text.value.trim() });
      card.replaceChildren(h('p', { role: 'status', text: t('left') }));
    } }, [email, text, h('button', { class: 'primary', type: 'submit', text: t('send') })]);
    card.replaceChildren(h('p', { text: t('noAgent') }), form);
    card.hidden = false;
  };
