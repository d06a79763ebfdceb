  // ---- console/files-view.js -----------------------------------------------------------
  // Files in the open chat: attachment events (images as thumbnails that open full size),
  // and the agent's own uploads (progress, cancel, a clear error when refused).

  var ICON_CLIP = 'M20 11.5l-8.1 8.1a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8';

  function fileSize(n) {
    return n >= 1048576 ? (n / 1048576).toFixed(1).replace(/\.0$/, '') + ' MB' : n >= 1024 ? Math.round(n / 1024) + ' KB' : n + ' B';
  }

  /** The link to one file, with the chat's read token (null before a view brought one). */
  function fileUrl(c, e) {
    var g = c && c.attachments;
    if (!g || !g.token) return null;
    return '/v1/attachments/' + encodeURIComponent(c.site) + '/' + e.conversation_id + '/' + e.id +
      '?t=' + encodeURIComponent(g.token) + '&name=' + encodeURIComponent(e.name || 'file');
  }

  View.prototype.fileNode = function (e, c) {
    var h = this.h.bind(this);
    var self = this;
    var who = e.from === 'visitor' ? 'Visitor' : (e.author && e.author.name) || 'Agent';
    var url = fileUrl(c, e);
    var label = (e.name || 'file') + ' \u00b7 ' + fileSize(e.size || 0);
    var body = /^image\//.test(e.content_type) && url ?
      h('button', { type: 'button', class: 'thumb', 'aria-label': 'Open ' + (e.name || 'image') + ' full size', onclick: function () { self.openImage(url, e.name); } }, [h('img', { src: url, alt: e.name || '' })]) :
      url ? h('a', { class: 'fname', href: url, target: '_blank', rel: 'noopener noreferrer', text: label }) : h('span', { text: label });
    return h('div', { class: 'msg file ' + (e.from === 'agent' ? 'agent' : 'visitor'), 'data-seq': String(e.seq), title: label },
      [h('div', { class: 'who', text: who + ' \u00b7 ' + clock(e.at) }), body]);
  };

  /** The paperclip and the upload row of the composer. */
  View.prototype.buildFiles = function () {
    var h = this.h.bind(this);
    var self = this;
    this.picker = h('input', { type: 'file', class: 'picker', hidden: true, onchange: function () {
      var file = self.picker.files && self.picker.files[0];
      self.picker.value = '';
      if (file) self.upload(file);
    } });
    this.clipBtn = h('button', { type: 'button', class: 'clip ghost', title: 'Attach a file', 'aria-label': 'Attach a file', onclick: function () { self.picker.click(); } }, [this.icon(ICON_CLIP), ' Attach']);
    this.uploads = h('div', { class: 'uploads', 'aria-live': 'polite' });
    return [this.picker, this.clipBtn];
  };

  /** Sends one file to the open chat's visitor, with the agent's own token. */
  View.prototype.upload = function (file) {
    var h = this.h.bind(this);
    var d = this.desk;
    var c = d.chats[d.active];
    var g = c && c.attachments;
    if (!c || c.ended || !g) return;
    if (file.size > g.max_bytes) return d.say(file.name + ' is larger than ' + fileSize(g.max_bytes) + ', the most this site accepts.', 'error');
    if (file.type && g.types.indexOf(file.type) < 0) return d.say(file.name + ': this site does not accept that type of file (' + g.types.join(', ') + ').', 'error');
    var xhr = new XMLHttpRequest();
    var bar = h('progress', { max: '100', value: '0', 'aria-label': 'Uploading ' + file.name });
    var row = h('div', { class: 'upload' }, [h('span', { text: file.name + ' \u00b7 ' + fileSize(file.size) }), bar,
      h('button', { type: 'button', class: 'ghost stop', text: 'Cancel', onclick: function () { xhr.abort(); row.remove(); } })]);
    this.uploads.appendChild(row);
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100); };
    xhr.onload = function () {
      row.remove();
      if (xhr.status === 201) return;
      var why = '';
      try { why = JSON.parse(xhr.responseText).message; } catch (e) { /* not JSON */ }
      d.say(file.name + ' was not sent: ' + (why || 'the server answered ' + xhr.status) + '.', 'error');
    };
    xhr.onerror = function () {
      row.remove();
      d.say(file.name + ' was not sent: the connection failed.', 'error');
    };
    xhr.open('POST', '/v1/attachments/' + encodeURIComponent(c.site) + '/' + c.id + '?name=' + encodeURIComponent(file.name));
    xhr.setRequestHeader('Authorization', 'Bearer ' + d.store.get('token'));
    xhr.send(file);
  };

  /** The full-size image over the page; Escape, a click or the button closes it. */
  View.prototype.openImage = function (url, name) {
    var h = this.h.bind(this);
    var self = this;
    var shut = h('button', { type: 'button', text: 'Close', onclick: function () { self.closeImage(); } });
    if (!this.lightbox) {
      this.lightbox = h('div', { class: 'lightbox', role: 'dialog', 'aria-modal': 'true', onclick: function () { self.closeImage(); },
        onkeydown: function (e) { if (e.key === 'Escape') { e.stopPropagation(); self.closeImage(); } } });
      this.doc.body.appendChild(this.lightbox);
    }
    this.lightbox.setAttribute('aria-label', name || 'Image');
    this.lightbox.replaceChildren(h('img', { src: url, alt: name || '' }), shut);
    this.lightbox.hidden = false;
    shut.focus();
  };

  View.prototype.closeImage = function () {
    if (this.lightbox) this.lightbox.hidden = true;
    this.focusComposer();
  };
