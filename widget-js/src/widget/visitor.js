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
    this.humanBtn.hidden = this.askedHuman = true;
  };

  /** "End chat" asks first; the answer replaces the links until it is given. */
  Widget.prototype.confirmEnd = function (ask) {
    this.confirm.hidden = !ask;
    this.links.hidden = ask || this.state === 'resolved';
    (ask ? this.endNo : this.input).focus();
  };

  /** The visitor ends the chat: once the server says it ended, they are asked for a rating. */
  Widget.prototype.end = function () {
    this.endedHere = true;
    this.confirm.hidden = true;
    this.client.send({ type: 'end' });
  };

  /** A rating card in the transcript: five labelled scores, then an optional comment. */
  Widget.prototype.showRating = function () {
    if (this.csatShown) return;
    this.csatShown = true;
    var t = this.t;
    var self = this;
    var card = this.csatCard;
    var labels = t('labels').split('|');
    var score = 0;
    var comment = h('textarea', { class: 'field', maxlength: '1000', 'aria-label': t('comment'), placeholder: t('comment') });
    var send = h('button', { class: 'primary', type: 'submit', text: t('rateSend') });
    var more = h('form', { hidden: true, onsubmit: function (e) {
      e.preventDefault();
      var c = comment.value.trim();
      self.client.send(c ? { type: 'csat', score: score, comment: c } : { type: 'csat', score: score });
      card.replaceChildren(h('p', { role: 'status', text: t('thanks') }));
    } }, [comment, send]);
    var stars = h('div', { class: 'stars', role: 'group', 'aria-label': t('rate') });
    [1, 2, 3, 4, 5].forEach(function (n) {
      stars.appendChild(h('button', { type: 'button', 'aria-pressed': 'false', onclick: function () {
          score = n;
          for (var i = 0; i < stars.childNodes.length; i++) stars.childNodes[i].setAttribute('aria-pressed', String(i === n - 1));
          more.hidden = false;
          self.follow();
        } }, [h('span', { 'aria-hidden': 'true', text: String(n) }), h('small', { text: labels[n - 1] }), h('span', { class: 'sr', text: ' ' + t('stars', { n: n }) })]));
    });
    card.replaceChildren.apply(card, [h('p', { text: t('rate') }), stars, more, this.transcriptOffer()].filter(Boolean));
    this.append(card, false, true);
  };

  Widget.prototype.transcriptOffer = function () {
    if (!this.emailOn) return null;
    var t = this.t;
    var self = this;
    var email = h('input', { class: 'field', type: 'email', required: true, 'aria-label': t('email'), placeholder: t('email') });
    return (this.transcriptForm = h('form', { onsubmit: function (e) {
      e.preventDefault();
      self.client.send({ type: 'email_transcript', email: email.value.trim() });
    } }, [h('p', { text: t('transcript') }), email, h('button', { class: 'primary', type: 'submit', text: t('send') })]));
  };

  /** A short preview of a new message beside the closed launcher. */
  Widget.prototype.showPreview = function (name, text) {
    var self = this;
    var plain = renderMarkdown(text).textContent;
    this.preview.replaceChildren(h('strong', { text: name }), h('span', { text: plain.length > 140 ? plain.slice(0, 139) + '\u2026' : plain }),
      h('button', { class: 'px', type: 'button', 'aria-label': this.t('close'), text: '\u00d7', onclick: function (e) {
        e.stopPropagation();
        self.preview.hidden = true;
      } }));
    this.preview.hidden = false;
  };

  Widget.prototype.newChat = function () {
    this.client.reset();
    this.log.replaceChildren(this.intro);
    this.bubbles = {};
    this.introSeen = false;
    this.intro.hidden = !this.look('greeting');
    this.lastAuthor = null;
    this.queueCard.hidden = true;
    this.leaveShown = this.csatShown = this.endedHere = this.wrote = false;
    this.forgetConversation();
    this.client.connect();
    this.input.focus();
  };

  /** Whether the visitor already left a message in this conversation (kept across reloads). */
  Widget.prototype.hasLeft = function () {
    var id = this.store.get('conversation');
    return !!id && this.store.get('left') === id;
  };

  /**
   * The leave-a-message form, in the transcript, once; never again after it was sent. Its own
   * "nobody is available" line only when no notice above said so (`intro`).
   */
  Widget.prototype.showLeave = function (intro) {
    if (this.leaveShown || this.hasLeft() || this.state === 'agent') return;
    this.leaveShown = true;
    var t = this.t;
    var self = this;
    var card = this.leaveCard;
    this.dropChip();
    var email = h('input', { class: 'field', type: 'email', required: true, autocomplete: 'email', 'aria-label': t('email'), placeholder: t('email') });
    var text = h('textarea', { class: 'field', required: true, maxlength: '4000', 'aria-label': t('message'), placeholder: t('placeholder') });
    var form = h('form', { onsubmit: function (e) {
      e.preventDefault();
      if (!form.reportValidity()) return;
      self.client.send({ type: 'leave_message', email: email.value.trim(), text: text.value.trim() });
      self.store.set('left', self.store.get('conversation'));
      // The server's notice thanks the visitor; the form simply goes.
      card.remove();
    } }, [email, text, h('button', { class: 'primary', type: 'submit', text: t('leaveSend') })]);
    card.replaceChildren.apply(card, intro ? [h('p', { text: t('noAgent') }), form] : [form]);
    this.append(card, false, true);
  };

  /** The form and its "Leave a message" chip go once a person or the bot has the chat. */
  Widget.prototype.dropLeave = function () {
    this.leaveCard.remove();
    this.leaveShown = false;
    this.dropChip();
  };

  Widget.prototype.dropChip = function () {
    var chips = this.log.querySelectorAll('.actions.leave-chip');
    for (var i = 0; i < chips.length; i++) chips[i].remove();
  };
