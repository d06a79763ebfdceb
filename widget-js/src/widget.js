/*
 * Baton visitor widget (docs: ../README.md), served after protocol.js as one script:
 *   <script async src="https://HOST/widget.js" data-site="SITE"></script>
 * Mounts under one open shadow root. Network text goes in as text nodes only; the Markdown
 * renderer builds whitelisted elements and links http(s)/mailto URLs only.
 */
(function (root) {
  'use strict';

  // ---- i18n ---------------------------------------------------------------------------

  /** Message keys; each locale below lists its strings in this order, one per line. */
  var KEYS = ['open', 'close', 'message', 'placeholder', 'send', 'human', 'ai', 'title', 'bot',
    'reconnecting', 'queue', 'wait', 'waiting', 'joined', 'typing', 'back', 'ended', 'end',
    'newChat', 'noAgent', 'email', 'left', 'rate', 'stars', 'thanks', 'sources', 'unread',
    'agentTitle'];

  var STRINGS = {
    en: `Open chat
Close chat
Message
Write a message…
Send
Talk to a person
You are chatting with an AI assistant.
Chat with us
Assistant
Reconnecting…
You are number {n} in line.
Estimated wait: about {m} min.
Waiting for a person to join…
{name} joined the chat.
{name} is typing…
You are back with the assistant.
This chat has ended.
End chat
Start a new chat
Nobody is available right now. Leave a message and we will reply by email.
Your email
Thanks! We will reply by email.
How would you rate this chat?
{n} out of 5
Thanks for your feedback!
Sources
{n} unread messages
Chatting with {name}`,
    es: `Abrir chat
Cerrar chat
Mensaje
Escribe un mensaje…
Enviar
Hablar con una persona
Estás hablando con un asistente de IA.
Chatea con nosotros
Asistente
Reconectando…
Eres el número {n} en la cola.
Espera estimada: unos {m} min.
Esperando a que se una una persona…
{name} se ha unido al chat.
{name} está escribiendo…
Vuelves a hablar con el asistente.
Este chat ha terminado.
Terminar chat
Iniciar un chat nuevo
No hay nadie disponible ahora. Déjanos un mensaje y te responderemos por correo.
Tu correo electrónico
¡Gracias! Te responderemos por correo.
¿Cómo valorarías este chat?
{n} de 5
¡Gracias por tu opinión!
Fuentes
{n} mensajes sin leer
Hablando con {name}`,
    fr: `Ouvrir le chat
Fermer le chat
Message
Écrivez un message…
Envoyer
Parler à une personne
Vous discutez avec un assistant IA.
Discutons
Assistant
Reconnexion…
Vous êtes n° {n} dans la file.
Attente estimée : environ {m} min.
En attente d’une personne…
{name} a rejoint la conversation.
{name} écrit…
Vous êtes de retour avec l’assistant.
Cette conversation est terminée.
Terminer la conversation
Nouvelle conversation
Personne n’est disponible pour le moment. Laissez un message, nous répondrons par e-mail.
Votre e-mail
Merci ! Nous vous répondrons par e-mail.
Comment évaluez-vous cette conversation ?
{n} sur 5
Merci pour votre avis !
Sources
{n} messages non lus
En conversation avec {name}`,
    de: `Chat öffnen
Chat schließen
Nachricht
Nachricht schreiben…
Senden
Mit einem Menschen sprechen
Sie chatten mit einem KI-Assistenten.
Chatten Sie mit uns
Assistent
Verbindung wird wiederhergestellt…
Sie sind Nummer {n} in der Warteschlange.
Geschätzte Wartezeit: etwa {m} Min.
Warten auf einen Mitarbeiter…
{name} ist dem Chat beigetreten.
{name} schreibt…
Sie sind wieder beim Assistenten.
Dieser Chat ist beendet.
Chat beenden
Neuen Chat starten
Gerade ist niemand erreichbar. Hinterlassen Sie eine Nachricht, wir antworten per E-Mail.
Ihre E-Mail-Adresse
Danke! Wir antworten per E-Mail.
Wie bewerten Sie diesen Chat?
{n} von 5
Danke für Ihr Feedback!
Quellen
{n} ungelesene Nachrichten
Im Chat mit {name}`,
    pt: `Abrir chat
Fechar chat
Mensagem
Escreva uma mensagem…
Enviar
Falar com uma pessoa
Você está conversando com um assistente de IA.
Fale conosco
Assistente
Reconectando…
Você é o número {n} na fila.
Espera estimada: cerca de {m} min.
Aguardando uma pessoa…
{name} entrou no chat.
{name} está digitando…
Você voltou a falar com o assistente.
Este chat foi encerrado.
Encerrar chat
Iniciar novo chat
Ninguém está disponível agora. Deixe uma mensagem e responderemos por e-mail.
Seu e-mail
Obrigado! Responderemos por e-mail.
Como você avalia este chat?
{n} de 5
Obrigado pela sua opinião!
Fontes
{n} mensagens não lidas
Conversando com {name}`,
    it: `Apri la chat
Chiudi la chat
Messaggio
Scrivi un messaggio…
Invia
Parla con una persona
Stai parlando con un assistente IA.
Scrivici
Assistente
Riconnessione…
Sei il numero {n} in coda.
Attesa stimata: circa {m} min.
In attesa di un operatore…
{name} è entrato nella chat.
{name} sta scrivendo…
Sei di nuovo con l’assistente.
Questa chat è terminata.
Termina la chat
Inizia una nuova chat
Al momento non c’è nessuno disponibile. Lascia un messaggio e ti risponderemo via email.
La tua email
Grazie! Ti risponderemo via email.
Come valuti questa chat?
{n} su 5
Grazie per il tuo feedback!
Fonti
{n} messaggi non letti
In chat con {name}`,
    nl: `Chat openen
Chat sluiten
Bericht
Typ een bericht…
Versturen
Met een medewerker praten
Je chat met een AI-assistent.
Chat met ons
Assistent
Opnieuw verbinden…
Je bent nummer {n} in de wachtrij.
Geschatte wachttijd: ongeveer {m} min.
Wachten op een medewerker…
{name} neemt deel aan de chat.
{name} typt…
Je praat weer met de assistent.
Deze chat is beëindigd.
Chat beëindigen
Nieuwe chat starten
Er is nu niemand beschikbaar. Laat een bericht achter, dan antwoorden we per e-mail.
Je e-mailadres
Bedankt! We antwoorden per e-mail.
Hoe beoordeel je deze chat?
{n} van 5
Bedankt voor je feedback!
Bronnen
{n} ongelezen berichten
In gesprek met {name}`,
    ro: `Deschide chatul
Închide chatul
Mesaj
Scrie un mesaj…
Trimite
Vorbește cu o persoană
Vorbești cu un asistent AI.
Scrie-ne
Asistent
Se reconectează…
Poziția ta în coadă: {n}.
Timp estimat de așteptare: aproximativ {m} min.
Se așteaptă o persoană…
{name} s-a alăturat conversației.
{name} scrie…
Ai revenit la asistent.
Această conversație s-a încheiat.
Încheie conversația
Începe o conversație nouă
Nu este nimeni disponibil acum. Lasă un mesaj și îți răspundem prin e-mail.
Adresa ta de e-mail
Mulțumim! Îți vom răspunde prin e-mail.
Cum evaluezi această conversație?
{n} din 5
Mulțumim pentru părere!
Surse
{n} mesaje necitite
Vorbești cu {name}`,
    bg: `Отвори чата
Затвори чата
Съобщение
Напишете съобщение…
Изпрати
Говорете с човек
Разговаряте с асистент с изкуствен интелект.
Пишете ни
Асистент
Повторно свързване…
Вие сте номер {n} на опашката.
Очаквано чакане: около {m} мин.
Изчакване на служител…
{name} се присъедини към чата.
{name} пише…
Отново разговаряте с асистента.
Този чат приключи.
Край на чата
Започни нов чат
В момента няма свободен служител. Оставете съобщение и ще ви отговорим по имейл.
Вашият имейл
Благодарим! Ще ви отговорим по имейл.
Как оценявате този чат?
{n} от 5
Благодарим за отзива!
Източници
{n} непрочетени съобщения
Разговор с {name}`,
    lv: `Atvērt tērzēšanu
Aizvērt tērzēšanu
Ziņa
Rakstiet ziņu…
Sūtīt
Runāt ar cilvēku
Jūs sarakstāties ar MI asistentu.
Rakstiet mums
Asistents
Atjauno savienojumu…
Jūs esat {n}. rindā.
Paredzamais gaidīšanas laiks: apmēram {m} min.
Gaida darbinieku…
{name} pievienojās tērzēšanai.
{name} raksta…
Jūs atkal sarakstāties ar asistentu.
Šī tērzēšana ir beigusies.
Beigt tērzēšanu
Sākt jaunu tērzēšanu
Pašlaik neviens nav pieejams. Atstājiet ziņu, un mēs atbildēsim pa e-pastu.
Jūsu e-pasts
Paldies! Mēs atbildēsim pa e-pastu.
Kā jūs novērtētu šo tērzēšanu?
{n} no 5
Paldies par atsauksmi!
Avoti
Nelasītas ziņas: {n}
Sarakste ar {name}`,
    pl: `Otwórz czat
Zamknij czat
Wiadomość
Napisz wiadomość…
Wyślij
Porozmawiaj z człowiekiem
Rozmawiasz z asystentem AI.
Napisz do nas
Asystent
Ponowne łączenie…
Jesteś {n}. w kolejce.
Szacowany czas oczekiwania: około {m} min.
Czekamy na konsultanta…
{name} dołącza do czatu.
{name} pisze…
Znowu rozmawiasz z asystentem.
Ten czat został zakończony.
Zakończ czat
Rozpocznij nowy czat
Nikt nie jest teraz dostępny. Zostaw wiadomość, a odpowiemy e-mailem.
Twój e-mail
Dziękujemy! Odpowiemy e-mailem.
Jak oceniasz ten czat?
{n} z 5
Dziękujemy za opinię!
Źródła
Nieprzeczytane wiadomości: {n}
Rozmowa z {name}`,
    zh: `打开聊天
关闭聊天
消息
输入消息…
发送
联系人工客服
您正在与 AI 助手聊天。
联系我们
助手
正在重新连接…
您排在第 {n} 位。
预计等待：约 {m} 分钟。
正在等待客服接入…
{name} 已加入聊天。
{name} 正在输入…
您已回到 AI 助手。
本次聊天已结束。
结束聊天
开始新的聊天
目前没有客服在线。请留言，我们会通过邮件回复您。
您的邮箱
谢谢！我们会通过邮件回复您。
您如何评价本次聊天？
{n} 分（满分 5 分）
感谢您的反馈！
来源
{n} 条未读消息
正在与 {name} 聊天`
  };

  /** The first supported locale among candidates ('pt-BR' → 'pt'); 'en' if none. */
  function pickLocale(candidates) {
    for (var i = 0; i < candidates.length; i++) {
      var tag = String(candidates[i] || '').toLowerCase().replace('_', '-');
      if (STRINGS[tag]) return tag;
      var primary = tag.split('-')[0];
      if (STRINGS[primary]) return primary;
    }
    return 'en';
  }

  /** A translator for one locale: t('queue', {n: 2}). */
  function translator(locale) {
    var lines = (STRINGS[locale] || STRINGS.en).split('\n');
    var table = {};
    KEYS.forEach(function (k, i) { table[k] = lines[i].trim(); });
    return function (key, vars) {
      return table[key].replace(/\{(\w+)\}/g, function (all, name) {
        return vars && vars[name] != null ? String(vars[name]) : all;
      });
    };
  }

  // ---- safe Markdown (shared with the console: render.js) -----------------------------

  var R = root.BatonRender || (typeof require === 'function' ? require('./render.js') : null);
  var safeUrl = R.safeUrl;
  var parseInline = R.parseInline;
  var parseMarkdown = R.parseMarkdown;

  /** Markdown text → DocumentFragment, built with createElement and text nodes only. */
  function renderMarkdown(text, doc, breaks) {
    return R.renderMarkdown(text, doc || root.document, breaks);
  }

  // ---- small helpers ------------------------------------------------------------------

  /** A hex colour, or null: configuration is data too. */
  function safeColor(c) {
    return /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(String(c || '').trim()) ? String(c).trim() : null;
  }

  /** Black or white, whichever reads better on the accent colour. */
  function onColor(hex) {
    var v = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, '$&$&').slice(1) : hex.slice(1);
    var n = parseInt(v, 16);
    var lum = (0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
    return lum > 0.62 ? '#16181d' : '#ffffff';
  }

  /** Whether a frame tells the visitor that no agent can take the chat. */
  function saysUnavailable(f) {
    if (!f) return false;
    // The server marks its "nobody can take this" notice with a leave_message quick reply.
    if (Array.isArray(f.actions) && f.actions.some(function (a) { return a && a.id === 'leave_message'; })) return true;
    if (f.type === 'error') return f.code === 'unavailable';
    if (f.available === false || f.agents_available === false || f.code === 'unavailable' ||
        f.reason === 'unavailable' || f.reason === 'no_agents') return true;
    return f.type === 'message' && f.from === 'system' &&
      /\b(?:no|not|nobody|no one)\b[^.]{0,60}\b(?:available|online)\b|\bunavailable\b/i.test(f.text || '');
  }

  var CSS = `
:host{all:initial!important;display:block!important;position:static!important;visibility:visible!important;opacity:1!important}
.root{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2330;-webkit-font-smoothing:antialiased;text-align:left;direction:ltr}
.root *,.root *::before,.root *::after{box-sizing:border-box}
[hidden]{display:none!important}
button,input,textarea{font:inherit;color:inherit;margin:0}
button{cursor:pointer;border:0;background:none;padding:0}
svg{display:block;flex:none}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;background:var(--accent);color:var(--on);box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.left .launcher{right:auto;left:20px}
.badge{position:absolute;top:-3px;right:-3px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#d93025;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center}
.panel{position:fixed;bottom:88px;right:20px;z-index:2147483000;width:380px;height:600px;max-height:calc(100vh - 108px);background:#fff;border-radius:14px;box-shadow:0 8px 40px rgba(15,20,40,.25);display:flex;flex-direction:column;overflow:hidden}
.left .panel{right:auto;left:20px}
.head{background:var(--accent);color:var(--on);padding:14px 12px 14px 18px;display:flex;align-items:center;gap:8px;flex:none}
.head-text{flex:1;min-width:0}
.title{font-size:16px;font-weight:650;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.sub{font-size:13px;opacity:.88}
.x{width:36px;height:36px;border-radius:8px;display:none;align-items:center;justify-content:center}
.x:hover{background:rgba(255,255,255,.16)}
.notice{margin:0;font-size:12.5px;color:#4f566b;background:#f3f5fa;padding:8px 18px;border-bottom:1px solid #e5e8f0;flex:none}
.banner{font-size:13px;background:#fff4ce;color:#5c4400;padding:6px 18px;flex:none}
.log{flex:1;overflow-y:auto;padding:16px 14px;display:flex;flex-direction:column;gap:8px;overscroll-behavior:contain;background:#fff}
.msg{max-width:85%;padding:9px 13px;border-radius:16px;overflow-wrap:anywhere}
.visitor{align-self:flex-end;background:var(--accent);color:var(--on);border-bottom-right-radius:4px;white-space:pre-wrap}
.bot,.agent{align-self:flex-start;background:#f0f2f7;border-bottom-left-radius:4px}
.pending{opacity:.6}
.stopped{opacity:.7}
.system{align-self:center;color:#5f6578;font-size:13px;text-align:center;padding:2px 8px;max-width:95%}
.who{align-self:flex-start;font-size:12px;color:#5f6578;margin:4px 0 -4px 4px}
.msg p,.msg ul,.msg ol,.msg pre{margin:0 0 6px}
.msg>:last-child,.msg p:last-child{margin-bottom:0}
.msg ul,.msg ol{padding-left:20px}
.msg code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;background:rgba(0,0,0,.06);padding:1px 4px;border-radius:4px}
.msg pre{white-space:pre-wrap}
.msg a{color:inherit;text-decoration:underline}
.sources{margin-top:6px;padding-top:6px;border-top:1px solid #dde1ea;font-size:13px}
.sources a{display:block;color:var(--accent)}
.actions{display:flex;flex-wrap:wrap;gap:6px;align-self:flex-start;max-width:90%}
.actions button,.chip{border:1px solid var(--accent);color:var(--accent);border-radius:16px;padding:5px 12px;font-size:14px;background:#fff}
.actions button:hover,.chip:hover{background:#f3f5fa}
.typing{font-size:13px;color:#5f6578;padding:0 18px 6px;flex:none}
.card{margin:0 12px 10px;padding:12px;border:1px solid #e5e8f0;border-radius:10px;background:#f8f9fc;font-size:14px;flex:none}
.card p{margin:0 0 8px}
.card p:last-child{margin:0}
.field{display:block;width:100%;margin:0 0 8px;padding:8px 10px;border:1px solid #cfd4df;border-radius:8px;background:#fff;color:#1f2330;font-size:14px}
.card textarea{resize:vertical;min-height:60px}
.stars{display:flex;gap:6px}
.stars button{width:40px;height:40px;border:1px solid #cfd4df;border-radius:8px;background:#fff;font-weight:650}
.stars button:hover{border-color:var(--accent);color:var(--accent)}
.foot{border-top:1px solid #e5e8f0;padding:6px 12px 12px;flex:none;background:#fff}
.links{display:flex;justify-content:space-between;gap:8px;margin-bottom:6px}
.link{font-size:13px;color:var(--accent);padding:4px 2px;text-decoration:underline}
.link.end{color:#5f6578;margin-left:auto}
.compose{display:flex;gap:8px;align-items:flex-end;margin:0}
.input{flex:1;min-width:0;resize:none;border:1px solid #cfd4df;border-radius:10px;padding:9px 12px;height:40px;max-height:120px;line-height:20px;outline:none;background:#fff;color:#1f2330;font-size:15px}
.input:focus{border-color:var(--accent)}
.send,.primary{background:var(--accent);color:var(--on);border-radius:10px;height:40px;padding:0 16px;font-weight:650;flex:none}
.primary{width:100%}
.sr{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:520px){
.panel,.left .panel{top:0;left:0;right:0;bottom:0;width:100%;height:100%;max-height:none;border-radius:0}
.open .launcher{display:none}
.x{display:flex}
.input,.field{font-size:16px}
}
@media (prefers-reduced-motion:no-preference){.panel{animation:baton-in .18s ease-out}}
@keyframes baton-in{from{opacity:0;transform:translateY(10px)}}
`;

  // ---- DOM ----------------------------------------------------------------------------

  var ICON_CHAT = 'M6 4h12a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3h-7l-5 4v-4a3 3 0 0 1-3-3V7a3 3 0 0 1 3-3z';
  var ICON_DOWN = 'M6 9l6 6 6-6';
  var ICON_X = 'M6 6l12 12M18 6L6 18';

  function icon(d, filled) {
    return R.icon(root.document, d, 26, filled);
  }

  function h(tag, props, kids) {
    return R.element(root.document, tag, props, kids);
  }

  // ---- the widget ---------------------------------------------------------------------

  var DEFAULT_COLOR = '#2f5bd3';

  function Widget(opts) {
    var P = root.BatonProtocol;
    this.site = opts.site;
    this.origin = opts.origin;
    this.data = opts.data || {};
    this.cfg = {};
    this.hooks = {};
    this.identity = null;
    this.state = 'bot';
    this.lineState = 'bot';
    this.agent = null;
    this.streams = {};
    this.bubbles = {};
    this.liveFrom = Infinity;
    this.unread = 0;
    this.typingOut = null;
    this.store = new P.Store('baton:' + this.site + ':');
    var session = null;
    try { session = root.sessionStorage; session.getItem('baton:probe'); } catch (e) { session = null; }
    this.session = new P.Store('baton:' + this.site + ':', session);
    this.readSeq = this.store.get('read') || 0;
    this.setLocale();
    var self = this;
    this.client = new P.Client({
      url: this.origin.replace(/^http/, 'ws') + '/v1/visitor/ws?site=' + encodeURIComponent(this.site),
      store: this.store,
      helloExtra: function () {
        return {
          locale: self.locale,
          page: { url: root.location.href, title: root.document.title },
          visitor: self.identity
        };
      }
    });
    this.wire();
  }

  Widget.prototype.setLocale = function () {
    var nav = root.navigator || {};
    var candidates = [this.data.locale].concat(nav.languages || [], nav.language, this.cfg.locale);
    this.locale = pickLocale(candidates.filter(Boolean));
    this.t = translator(this.locale);
  };

  /** Appearance: built-in defaults < site configuration < data- attributes. */
  Widget.prototype.look = function (key) {
    var d = this.data[key];
    if (d) return d;
    var c = this.cfg[key];
    if (c) return c;
    return { title: this.t('title'), bot_name: this.t('bot'), ai_notice: this.t('ai') }[key] || '';
  };

  Widget.prototype.emitHook = function (name, data) {
    (this.hooks[name] || []).forEach(function (fn) {
      try { fn(data); } catch (e) { if (root.console) root.console.error(e); }
    });
  };

  /** Page API: Baton('open'), Baton('on', 'message', fn), ... */
  Widget.prototype.command = function (name, arg, fn) {
    if (!this.panel && (name === 'open' || name === 'close' || name === 'toggle')) {
      this.openAtMount = name === 'toggle' ? !this.openAtMount : name === 'open';
    } else if (name === 'open') this.open();
    else if (name === 'close') this.close();
    else if (name === 'toggle') this.panelOpen ? this.close() : this.open();
    else if (name === 'identify' && arg && typeof arg === 'object') {
      var who = {};
      for (var k in arg) if (arg[k] != null) who[k] = String(arg[k]).slice(0, 200);
      this.identity = who;
    } else if (name === 'on' && typeof fn === 'function') {
      (this.hooks[arg] = this.hooks[arg] || []).push(fn);
    }
  };

  Widget.prototype.mount = function () {
    var self = this;
    var t = this.t;
    var doc = root.document;
    this.host = doc.createElement('baton-widget');
    var shadow = this.host.attachShadow({ mode: 'open' });
    shadow.appendChild(h('style', { text: CSS }));

    this.badge = h('span', { class: 'badge', hidden: true, 'aria-hidden': 'true' });
    this.launcher = h('button', { class: 'launcher', type: 'button', 'aria-expanded': 'false', onclick: function () {
      self.panelOpen ? self.close() : self.open();
    } }, [icon(ICON_CHAT, true), this.badge]);

    this.titleEl = h('div', { class: 'title' });
    this.sub = h('div', { class: 'sub' });
    this.xBtn = h('button', { class: 'x', type: 'button', onclick: function () { self.close(); } }, [icon(ICON_X)]);
    this.notice = h('p', { class: 'notice' });
    this.banner = h('div', { class: 'banner', role: 'status', hidden: true });
    this.log = h('div', { class: 'log', role: 'log', 'aria-live': 'off' });
    this.intro = h('div', { class: 'msg bot intro', hidden: true });
    this.log.appendChild(this.intro);
    this.typingEl = h('div', { class: 'typing', hidden: true });
    this.queueCard = h('div', { class: 'card', role: 'status', hidden: true });
    this.leaveCard = h('div', { class: 'card', hidden: true });
    this.csatCard = h('div', { class: 'card', hidden: true });
    this.humanBtn = h('button', { class: 'link', type: 'button', onclick: function () { self.requestHuman(); } });
    this.endBtn = h('button', { class: 'link end', type: 'button', onclick: function () { self.end(); } });
    this.input = h('textarea', { class: 'input', rows: '1', maxlength: '4000', enterkeyhint: 'send',
      oninput: function () { self.autosize(); self.typing(true); },
      onkeydown: function (e) {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          self.submit();
        }
      } });
    this.sendBtn = h('button', { class: 'send', type: 'submit' });
    this.compose = h('form', { class: 'compose', onsubmit: function (e) { e.preventDefault(); self.submit(); } },
      [this.input, this.sendBtn]);
    this.newBtn = h('button', { class: 'primary', type: 'button', hidden: true, onclick: function () { self.newChat(); } });
    this.links = h('div', { class: 'links' }, [this.humanBtn, this.endBtn]);
    this.announcer = h('div', { class: 'sr', role: 'log', 'aria-live': 'polite' });

    this.panel = h('section', { class: 'panel', role: 'dialog', hidden: true,
      onkeydown: function (e) { if (e.key === 'Escape') self.close(); } }, [
      h('div', { class: 'head' }, [h('div', { class: 'head-text' }, [this.titleEl, this.sub]), this.xBtn]),
      this.notice, this.banner, this.log, this.typingEl, this.queueCard, this.leaveCard, this.csatCard,
      h('div', { class: 'foot' }, [this.links, this.compose, this.newBtn]),
      this.announcer
    ]);
    this.rootEl = h('div', { class: 'root' }, [this.panel, this.launcher]);
    shadow.appendChild(this.rootEl);
    this.shadow = shadow;
    this.paint();
    (doc.body || doc.documentElement).appendChild(this.host);

    this.client.outbox().forEach(function (f) {
      if (f.type === 'message') self.visitorBubble(f.client_id, f.text, true);
    });
    if (this.store.get('token') || this.client.outbox().length) this.client.connect();
    if (this.openAtMount || (this.openAtMount == null && this.session.get('open'))) this.open(this.openAtMount == null);
    this.fetchConfig();
  };

  /** (Re)applies strings and appearance; runs again when the site configuration arrives. */
  Widget.prototype.paint = function () {
    var t = this.t;
    var color = safeColor(this.look('color')) || DEFAULT_COLOR;
    this.rootEl.style.setProperty('--accent', color);
    this.rootEl.style.setProperty('--on', onColor(color));
    this.rootEl.classList.toggle('left', this.look('position') === 'left');
    this.launcher.setAttribute('aria-label', this.panelOpen ? t('close') : t('open'));
    this.xBtn.setAttribute('aria-label', t('close'));
    this.titleEl.textContent = this.look('title');
    this.panel.setAttribute('aria-label', this.look('title'));
    this.notice.textContent = this.aiNotice || this.look('ai_notice');
    this.log.setAttribute('aria-label', this.look('title'));
    this.humanBtn.textContent = t('human');
    this.endBtn.textContent = t('end');
    this.input.setAttribute('aria-label', t('message'));
    this.input.setAttribute('placeholder', t('placeholder'));
    this.sendBtn.textContent = t('send');
    this.newBtn.textContent = t('newChat');
    var greeting = this.look('greeting');
    this.intro.textContent = '';
    this.intro.appendChild(renderMarkdown(greeting));
    this.intro.hidden = !greeting || this.introSeen;
    this.header();
  };

  Widget.prototype.fetchConfig = function () {
    var self = this;
    if (typeof root.fetch !== 'function') return;
    root.fetch(this.origin + '/v1/sites/' + encodeURIComponent(this.site) + '/widget', { credentials: 'omit' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (cfg) {
        if (!cfg || typeof cfg !== 'object') return;
        self.cfg = cfg;
        self.setLocale();
        self.paint();
      })
      .catch(function () { /* built-in defaults stay */ });
  };

  Widget.prototype.header = function () {
    var t = this.t;
    var s = this.state;
    var withAgent = s === 'agent' && this.agent;
    this.sub.textContent = withAgent ? t('agentTitle', { name: this.agent.name }) :
      s === 'queued' ? t('waiting') : s === 'resolved' ? t('ended') : this.look('bot_name');
    this.notice.hidden = !!withAgent;
    this.links.hidden = s === 'resolved';
    this.humanBtn.hidden = s === 'queued' || s === 'agent';
    this.compose.hidden = s === 'resolved';
    this.newBtn.hidden = s !== 'resolved';
    if (s !== 'queued') this.queueCard.hidden = true;
  };

  // ---- opening, unread ----------------------------------------------------------------

  Widget.prototype.open = function (restoring) {
    if (this.panelOpen) return;
    this.panelOpen = true;
    this.panel.hidden = false;
    this.rootEl.classList.add('open');
    this.launcher.setAttribute('aria-expanded', 'true');
    this.launcher.replaceChildren(icon(ICON_DOWN), this.badge);
    this.paint();
    this.session.set('open', true);
    this.client.connect();
    this.markRead();
    this.log.scrollTop = this.log.scrollHeight;
    if (!restoring) this.input.focus();
    this.emitHook('open');
  };

  Widget.prototype.close = function () {
    if (!this.panelOpen) return;
    var hadFocus = this.shadow.activeElement && this.panel.contains(this.shadow.activeElement);
    this.panelOpen = false;
    this.panel.hidden = true;
    this.rootEl.classList.remove('open');
    this.launcher.setAttribute('aria-expanded', 'false');
    this.launcher.replaceChildren(icon(ICON_CHAT, true), this.badge);
    this.paint();
    this.session.set('open', false);
    if (hadFocus) this.launcher.focus();
    this.emitHook('close');
  };

  Widget.prototype.markRead = function () {
    var seq = this.client.lastSeq(this.store.get('conversation'));
    if (seq > this.readSeq) {
      this.readSeq = seq;
      this.store.set('read', seq);
    }
    this.setUnread(0);
  };

  Widget.prototype.setUnread = function (n) {
    this.unread = n;
    this.badge.hidden = !n;
    this.badge.textContent = n > 9 ? '9+' : String(n);
    this.launcher.setAttribute('aria-description', n ? this.t('unread', { n: n }) : '');
    this.emitHook('unread', n);
  };

  // ---- the log ------------------------------------------------------------------------

  /** Runs change(), then keeps the log scrolled to the end if it was there before. */
  Widget.prototype.stick = function (change, force) {
    var log = this.log;
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    change();
    if (atBottom || force) log.scrollTop = log.scrollHeight;
  };

  /** Confirmed items go before the first pending (unsent) message; pending ones go last. */
  Widget.prototype.append = function (el, pending) {
    var log = this.log;
    this.stick(function () { log.insertBefore(el, pending ? null : log.querySelector('.pending')); }, pending);
  };

  Widget.prototype.announce = function (text) {
    var a = this.announcer;
    a.appendChild(h('p', { text: text }));
    while (a.childNodes.length > 3) a.removeChild(a.firstChild);
  };

  Widget.prototype.systemLine = function (text) {
    this.append(h('div', { class: 'system', text: text }));
  };

  Widget.prototype.visitorBubble = function (clientId, text, pending) {
    var el = this.bubbles[clientId];
    if (!el) {
      el = h('div', { class: 'msg visitor', text: text });
      if (clientId) this.bubbles[clientId] = el;
    } else if (!pending && el.classList.contains('pending')) {
      el.remove(); // reposition among confirmed events
    } else {
      return el;
    }
    el.classList.toggle('pending', !!pending);
    this.append(el, pending);
    return el;
  };

  /** Fills a bot/agent bubble: Markdown body, sources, quick replies. */
  Widget.prototype.fill = function (el, f) {
    el.replaceChildren(renderMarkdown(f.text || '', null, f.from === 'agent'));
    var links = (Array.isArray(f.sources) ? f.sources : []).map(function (s) {
      var url = s && safeUrl(s.url);
      var label = (s && (s.title || s.url)) || '';
      return url ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: label }) : h('span', { text: label });
    });
    if (links.length) el.appendChild(h('div', { class: 'sources' }, [h('div', { text: this.t('sources') })].concat(links)));
  };

  Widget.prototype.authorLabel = function (f) {
    var name = (f.author && f.author.name) || (f.from === 'bot' ? this.look('bot_name') : '');
    var key = f.from + ':' + name;
    if (key !== this.lastAuthor && name) this.append(h('div', { class: 'who', text: name }));
    this.lastAuthor = key;
    return name;
  };

  Widget.prototype.actions = function (f) {
    var self = this;
    var old = this.log.querySelectorAll('.actions');
    for (var i = 0; i < old.length; i++) old[i].remove();
    if (!Array.isArray(f.actions) || !f.actions.length) return;
    var group = h('div', { class: 'actions', role: 'group' });
    f.actions.forEach(function (a) {
      group.appendChild(h('button', { type: 'button', text: String(a.label), onclick: function () {
        // Leaving a message is a form here; the message itself goes out as leave_message.
        if (a.id === 'leave_message') self.showLeave();
        else self.client.send({ type: 'action', id: a.id });
        group.remove();
      } }));
    });
    this.append(group);
  };

  // ---- frames -------------------------------------------------------------------------

  Widget.prototype.wire = function () {
    var self = this;
    var c = this.client;
    Object.keys(FRAMES).forEach(function (type) {
      c.on(type, function (f) { FRAMES[type](self, f); });
    });
    c.on('frame', function (f) {
      // The last replayed event: from here on the welcome's state is the current one.
      if (f.seq === self.liveFrom && self.welcomeState) self.setState({ state: self.welcomeState });
    });
    c.on('status', function (s) { self.connection(s); });
    c.on('stopped', function (e) { self.stopped(e.code); });
  };

  /** UI reactions per frame type (the protocol client has done dedupe and bookkeeping). */
  var FRAMES = {
    welcome: function (w, f) {
      w.liveFrom = f.last_seq || 0;
      if (f.ai_notice) {
        w.aiNotice = f.ai_notice;
        w.notice.textContent = f.ai_notice;
      }
      w.welcomeState = f.state;
      if ((f.last_seq || 0) <= w.client.lastSeq(f.conversation_id)) w.setState({ state: f.state });
    },
    message: function (w, f) {
      var live = f.seq > w.liveFrom;
      if (f.from === 'visitor') {
        w.visitorBubble(f.client_id, f.text, false);
        w.lastAuthor = null;
      } else if (f.from === 'system') {
        w.systemLine(f.text || '');
        w.lastAuthor = null;
      } else {
        w.typingShow(null);
        var stream = w.streams[f.id];
        delete w.streams[f.id];
        if (f.from === 'bot' && !w.introSeen && f.text === w.look('greeting')) w.intro.hidden = w.introSeen = true;
        var name = stream ? (f.author && f.author.name) || stream.name : w.authorLabel(f);
        var el = stream ? stream.el : h('div', { class: 'msg ' + (f.from === 'agent' ? 'agent' : 'bot') });
        el.classList.remove('streaming');
        el.removeAttribute('aria-hidden');
        if (stream) w.stick(function () { w.fill(el, f); });
        else {
          w.fill(el, f);
          w.append(el);
        }
        if (live) w.announce((name ? name + ': ' : '') + (f.text || ''));
      }
      w.actions(f);
      if (saysUnavailable(f)) w.showLeave();
      w.seen(f);
      w.emitHook('message', f);
    },
    state: function (w, f) {
      w.seen(f);
      var t = w.t;
      var prev = w.lineState;
      w.lineState = f.state;
      if (f.state === 'agent' && f.agent) w.agent = f.agent;
      var line = f.state === 'queued' ? t('waiting') :
        f.state === 'agent' && f.agent ? t('joined', { name: f.agent.name }) :
        f.state === 'bot' && (prev === 'agent' || prev === 'queued') ? t('back') :
        f.state === 'resolved' ? t('ended') : null;
      if (line && prev !== f.state) w.systemLine(line);
      w.setState(f);
      if (saysUnavailable(f)) w.showLeave();
    },
    ack: function (w, f) {
      var el = w.bubbles[f.client_id];
      if (el && el.classList.contains('pending')) w.visitorBubble(f.client_id, el.textContent, false);
    },
    bot_delta: function (w, f) {
      w.typingShow(null);
      var s = w.streams[f.reply_id];
      if (!s) {
        var name = w.authorLabel({ from: 'bot' });
        s = w.streams[f.reply_id] = { el: h('div', { class: 'msg bot streaming', 'aria-hidden': 'true' }), text: '', name: name };
        w.append(s.el);
      }
      s.text += f.text || '';
      w.stick(function () { s.el.replaceChildren(renderMarkdown(s.text)); });
    },
    bot_cancelled: function (w, f) {
      var s = w.streams[f.reply_id];
      if (!s) return;
      delete w.streams[f.reply_id];
      s.el.classList.remove('streaming');
      s.el.classList.add('stopped');
      s.el.removeAttribute('aria-hidden');
      s.el.appendChild(h('span', { text: ' …' }));
    },
    typing: function (w, f) {
      if (f.from === 'visitor') return;
      w.typingShow(f.on ? (f.from === 'agent' && w.agent ? w.agent.name : w.look('bot_name')) : null);
    },
    queue: function (w, f) {
      var t = w.t;
      var card = w.queueCard;
      card.replaceChildren(h('p', { text: t('waiting') }));
      if (f.position) card.appendChild(h('p', { text: t('queue', { n: f.position }) }));
      if (f.eta_seconds != null) card.appendChild(h('p', { text: t('wait', { m: Math.max(1, Math.ceil(f.eta_seconds / 60)) }) }));
      card.hidden = false;
    },
    csat_request: function (w) {
      var t = w.t;
      var card = w.csatCard;
      var stars = h('div', { class: 'stars' });
      [1, 2, 3, 4, 5].forEach(function (n) {
        stars.appendChild(h('button', { type: 'button', text: String(n), 'aria-label': t('stars', { n: n }), onclick: function () {
          w.client.send({ type: 'csat', score: n });
          card.replaceChildren(h('p', { text: t('thanks') }));
        } }));
      });
      card.replaceChildren(h('p', { text: t('rate') }), stars);
      card.hidden = false;
    },
    error: function (w, f) {
      if (saysUnavailable(f)) w.showLeave();
    }
  };

  Widget.prototype.seen = function (f) {
    if (f.from !== 'visitor' && f.type === 'message') {
      if (this.panelOpen) this.markRead();
      else if (f.seq > this.readSeq) this.setUnread(this.unread + 1);
    } else if (this.panelOpen) {
      this.markRead();
    }
  };

  Widget.prototype.setState = function (f) {
    if (!f.state) return;
    this.state = f.state;
    // A person has the chat now: the leave-a-message card has served its purpose.
    if (f.state === 'agent') this.leaveCard.hidden = true;
    this.header();
    this.emitHook('state', { state: f.state, agent: this.agent });
  };

  Widget.prototype.typingShow = function (name) {
    var self = this;
    clearTimeout(this.typingTimer);
    this.typingEl.hidden = !name;
    this.typingEl.textContent = name ? this.t('typing', { name: name }) : '';
    if (name) this.typingTimer = setTimeout(function () { self.typingShow(null); }, 10000);
  };

  Widget.prototype.connection = function (status) {
    var self = this;
    clearTimeout(this.bannerTimer);
    if (status === 'open') {
      this.banner.hidden = true;
      return;
    }
    if (status === 'idle') return;
    this.bannerTimer = setTimeout(function () {
      self.banner.textContent = self.t('reconnecting');
      self.banner.hidden = false;
    }, 1500);
  };

  /** 4001: the conversation is gone; start a fresh one now if the visitor is here. */
  Widget.prototype.stopped = function (code) {
    clearTimeout(this.bannerTimer);
    this.banner.hidden = true;
    if (code !== 4001) {
      if (root.console) root.console.warn('Baton: the server refused this page (close code ' + code + ')');
      return;
    }
    this.forgetConversation();
    if (this.panelOpen || this.client.outbox().length) this.client.connect();
  };

  Widget.prototype.forgetConversation = function () {
    this.streams = {};
    this.state = this.lineState = 'bot';
    this.welcomeState = null;
    this.agent = null;
    this.readSeq = 0;
    this.store.set('read', 0);
    this.setUnread(0);
    this.header();
  };

  // ---- visitor actions ----------------------------------------------------------------

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

  // ---- boot ---------------------------------------------------------------------------

  function findScript() {
    var doc = root.document;
    if (doc.currentScript && doc.currentScript.getAttribute('data-site')) return doc.currentScript;
    var all = doc.querySelectorAll('script[data-site][src]');
    for (var i = 0; i < all.length; i++) if (/widget(\.min)?\.js(\?|#|$)/.test(all[i].src)) return all[i];
    return null;
  }

  function boot() {
    if (root.Baton && root.Baton.loaded) return;
    var script = findScript();
    var site = script && script.getAttribute('data-site');
    if (!site) {
      if (root.console) root.console.warn('Baton: add data-site="…" to the widget <script> tag');
      return;
    }
    var data = {};
    ['color', 'position', 'greeting', 'title', 'locale'].forEach(function (k) {
      var v = script.getAttribute('data-' + k);
      if (v) data[k] = v;
    });
    var queued = (root.Baton && root.Baton.q) || [];
    var widget = null;
    var api = function () {
      if (widget) return widget.command.apply(widget, arguments);
      queued.push(arguments);
    };
    api.loaded = true;
    root.Baton = api;
    var start = function () {
      widget = new Widget({ site: site, origin: new URL(script.src, root.location.href).origin, data: data });
      // Commands queued before load run before mount, so identify() reaches the first hello.
      queued.splice(0).forEach(function (args) { widget.command.apply(widget, args); });
      widget.mount();
    };
    if (root.document.body) start();
    else root.document.addEventListener('DOMContentLoaded', start);
  }

  var exported = {
    renderMarkdown: renderMarkdown,
    parseMarkdown: parseMarkdown,
    parseInline: parseInline,
    safeUrl: safeUrl,
    safeColor: safeColor,
    onColor: onColor,
    pickLocale: pickLocale,
    translator: translator,
    saysUnavailable: saysUnavailable,
    STRINGS: STRINGS,
    KEYS: KEYS,
    FRAMES: FRAMES,
    Widget: Widget
  };
  root.BatonWidget = exported;
  if (typeof module === 'object' && module.exports) module.exports = exported;
  if (root.document && root.location && root.BatonProtocol) boot();
})(typeof globalThis !== 'undefined' ? globalThis : this);
