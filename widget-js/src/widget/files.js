  // ---- widget/files.js -----------------------------------------------------------------
  // Files: the paperclip, uploads over HTTP with progress and cancel, and attachment events
  // (images as thumbnails that open full size, other files as links).

  var ICON_CLIP = 'M20 11.5l-8.1 8.1a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8';

  /** "1.2 MB", "340 KB", "12 B" (binary units, as the limits are set). */
  function fileSize(n) {
    return n >= 1048576 ? (n / 1048576).toFixed(1).replace(/\.0$/, '') + ' MB' : n >= 1024 ? Math.round(n / 1024) + ' KB' : n + ' B';
  }

  /** The paperclip and its hidden file input, shown once the server grants files. */
  Widget.prototype.mountFiles = function () {
    var self = this;
    this.picker = h('input', { type: 'file', hidden: true, onchange: function () {
      var file = self.picker.files && self.picker.files[0];
      self.picker.value = '';
      if (file) self.upload(file);
    } });
    this.clipBtn = h('button', { class: 'clip', type: 'button', hidden: true, onclick: function () { self.picker.click(); } }, [R.icon(root.document, ICON_CLIP, 20)]);
    this.lightbox = h('div', { class: 'lightbox', role: 'dialog', hidden: true, onclick: function () { self.closeImage(); },
      onkeydown: function (e) { if (e.key === 'Escape') { e.stopPropagation(); self.closeImage(); } } });
    return [this.picker, this.clipBtn];
  };

  /** The `welcome`'s grant: a token for this conversation's files and the site's limits. */
  Widget.prototype.grant = function (g) {
    this.files = g && g.token ? g : null;
    this.clipBtn.hidden = !this.files;
    if (this.files) this.picker.setAttribute('accept', this.files.types.join(','));
    this.clipBtn.setAttribute('aria-label', this.t('attach'));
    this.clipBtn.title = this.t('attach');
  };

  Widget.prototype.fileUrl = function (f) {
    var g = this.files;
    if (!g) return null;
    return this.origin + '/v1/attachments/' + encodeURIComponent(this.site) + '/' + f.conversation_id + '/' + f.id +
      '?t=' + encodeURIComponent(g.token) + '&name=' + encodeURIComponent(f.name || 'file');
  };

  /** Sends one file: refused here when the site would refuse it, else posted with progress. */
  Widget.prototype.upload = function (file) {
    var self = this;
    var t = this.t;
    var g = this.files;
    var id = this.store.get('conversation');
    if (!g || !id) return;
    if (file.size > g.max_bytes) return this.fileError(t('tooBig', { name: file.name, max: fileSize(g.max_bytes) }));
    if (file.type && g.types.indexOf(file.type) < 0) return this.fileError(t('badType', { name: file.name }));
    var xhr = new XMLHttpRequest();
    var bar = h('progress', { max: '100', value: '0', 'aria-label': file.name });
    var item = h('div', { class: 'msg visitor file uploading' }, [h('span', { class: 'fname', text: file.name + ' \u00b7 ' + fileSize(file.size) }), bar,
      h('button', { class: 'stop', type: 'button', 'aria-label': t('cancel'), title: t('cancel'), text: '\u00d7', onclick: function () {
        xhr.abort();
        item.remove();
      } })]);
    this.append(item, true, true);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    };
    xhr.onload = function () {
      item.remove();
      if (xhr.status === 201) return;
      var code = '';
      try { code = JSON.parse(xhr.responseText).error; } catch (e) { /* not JSON */ }
      self.fileError(code === 'too_large' ? t('tooBig', { name: file.name, max: fileSize(g.max_bytes) }) :
        code === 'unsupported_type' ? t('badType', { name: file.name }) : t('upFail', { name: file.name }));
    };
    xhr.onerror = function () {
      item.remove();
      self.fileError(t('upFail', { name: file.name }));
    };
    xhr.open('POST', this.origin + '/v1/attachments/' + encodeURIComponent(this.site) + '/' + id + '?name=' + encodeURIComponent(file.name));
    xhr.setRequestHeader('Authorization', 'Bearer ' + g.token);
    xhr.send(file);
  };

  /** A refused or failed file: said in the transcript and read out. */
  Widget.prototype.fileError = function (text) {
    this.append(h('div', { class: 'system ferr', role: 'alert', text: text }), false, true);
    this.lastAuthor = null;
  };

  /** An `attachment` event: a thumbnail for images, a link for other files. */
  Widget.prototype.attachment = function (f) {
    var self = this;
    var live = f.seq > this.liveFrom;
    if (!this.introSeen) this.intro.hidden = this.introSeen = true;
    var mine = f.from === 'visitor';
    var name = '';
    if (mine) {
      if (this.lastAuthor !== 'visitor') this.append(h('div', { class: 'who me', text: this.time(f.at) }), false, !live);
      this.lastAuthor = 'visitor';
      if (!this.wrote) {
        this.wrote = true;
        this.header();
      }
    } else name = this.authorLabel(f);
    var url = this.fileUrl(f);
    var label = (f.name || 'file') + ' \u00b7 ' + fileSize(f.size || 0);
    var body = /^image\//.test(f.content_type) && url ?
      h('button', { class: 'thumb', type: 'button', 'aria-label': f.name, onclick: function () { self.openImage(url, f.name); } }, [h('img', { src: url, alt: f.name })]) :
      h('a', { class: 'fname', href: url, target: '_blank', rel: 'noopener noreferrer', text: label });
    var el = h('div', { class: 'msg file ' + (mine ? 'visitor' : f.from === 'agent' ? 'agent' : 'bot'), title: label }, [body]);
    this.append(el, false, !live || mine);
    if (live && !mine) {
      this.announce((name ? name + ': ' : '') + label);
      if (!this.panelOpen) this.showPreview(name, label);
    }
    this.seen(f);
  };

  /** The full-size image over the panel; Escape, a click or the button closes it. */
  Widget.prototype.openImage = function (url, name) {
    var self = this;
    var shut = h('button', { class: 'shut', type: 'button', text: this.t('shut'), onclick: function () { self.closeImage(); } });
    this.lightbox.replaceChildren(h('img', { src: url, alt: name }), shut);
    this.lightbox.setAttribute('aria-label', name);
    if (!this.lightbox.parentNode) this.panel.appendChild(this.lightbox);
    this.lightbox.hidden = false;
    shut.focus();
  };

  Widget.prototype.closeImage = function () {
    this.lightbox.hidden = true;
    this.input.focus();
  };

  FRAMES.attachment = function (w, f) { w.attachment(f); };
  var welcomeFrame = FRAMES.welcome;
  FRAMES.welcome = function (w, f) {
    welcomeFrame(w, f);
    w.grant(f.attachments);
  };
