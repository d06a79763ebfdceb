  // ---- widget/styles.js ----------------------------------------------------------------

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

  var DEFAULT_COLOR = '#2f5bd3';

  var CSS = `
:host{all:initial!important;display:block!important;position:static!important;visibility:visible!important;opacity:1!important}
.root{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2330;-webkit-font-smoothing:antialiased;text-align:start}
.root *,.root *::before,.root *::after{box-sizing:border-box}
[hidden]{display:none!important}
button,input,textarea{font:inherit;color:inherit;margin:0}
button{cursor:pointer;border:0;background:none;padding:0}
svg{display:block;flex:none}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;background:var(--accent);color:var(--on);box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.left .launcher{right:auto;left:20px}
.preview{position:fixed;bottom:88px;right:20px;z-index:2147483000;width:280px;background:#fff;border-radius:12px;box-shadow:0 6px 24px rgba(15,20,40,.22);padding:10px;padding-inline-end:34px;font-size:14px;text-align:start;cursor:pointer}
.left .preview{right:auto;left:20px}
.preview strong{display:block;font-size:13px}
.preview span{display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden}
.preview .px{position:absolute;top:6px;inset-inline-end:6px;width:24px;height:24px;border-radius:6px;color:#4f566b;cursor:pointer}
.badge{position:absolute;top:-3px;right:-3px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#d93025;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center}
.panel{position:fixed;bottom:88px;right:20px;z-index:2147483000;width:380px;height:600px;max-height:calc(100vh - 108px);background:#fff;border-radius:14px;box-shadow:0 8px 40px rgba(15,20,40,.25);display:flex;flex-direction:column;overflow:hidden}
.left .panel{right:auto;left:20px}
.head{background:var(--accent);color:var(--on);padding:14px 12px 14px 18px;display:flex;align-items:center;gap:8px;flex:none}
.head-text{flex:1;min-width:0}
.title{font-size:16px;font-weight:650;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.sub{font-size:13px;opacity:.88}
.x{width:36px;height:36px;border-radius:8px;display:none;align-items:center;justify-content:center}
.x:hover{background:rgba(255,255,255,.16)}
.notice{margin:0;font-size:12.5px;color:#4f566b;background:#f3f5fa;padding:6px 18px;border-bottom:1px solid #e5e8f0;flex:none}
.past{display:flex;flex-direction:column;gap:8px;padding-bottom:9px;border-bottom:1px dashed #bbb}
.banner{font-size:13px;background:#fff4ce;color:#5c4400;padding:6px 18px;flex:none}
.wrap{flex:1;min-height:50%;position:relative;display:flex}
.log{flex:1;position:relative;overflow-y:auto;padding:16px 14px;display:flex;flex-direction:column;gap:8px;overscroll-behavior:contain;background:#fff}
.pill{position:absolute;bottom:10px;left:50%;transform:translateX(-50%);background:var(--accent);color:var(--on);border-radius:16px;padding:5px 14px;font-size:13px;box-shadow:0 2px 8px rgba(0,0,0,.2)}
.msg{max-width:85%;padding:9px 13px;border-radius:16px;overflow-wrap:anywhere}
.visitor{align-self:flex-end;background:var(--accent);color:var(--on);border-end-end-radius:4px;white-space:pre-wrap}
.bot,.agent{align-self:flex-start;background:#f0f2f7;border-end-start-radius:4px}
.agent{background:#fff;border:1px solid #858d9e}
.pending{opacity:.6}
.stopped{opacity:.7}
.system{align-self:center;color:#5f6578;font-size:13px;text-align:center;padding:2px 8px;max-width:95%}
.who{align-self:flex-start;display:flex;align-items:center;gap:6px;font-size:12px;color:#5f6578;margin:6px 4px -2px}
.who.me{align-self:flex-end}
.av{width:24px;height:24px;border-radius:50%;background:var(--accent);color:var(--on);font-size:11px;font-weight:700;display:flex;align-items:center;justify-content:center}
.who-agent .av{background:#1f7a4d;color:#fff}
.who strong{color:#1f2330;font-weight:600}
.ai{border:1px solid #5f6578;border-radius:4px;padding:0 4px;font-size:10.5px;font-weight:700}
.msg p,.msg ul,.msg ol,.msg pre{margin:0 0 6px}
.msg>:last-child,.msg p:last-child{margin-bottom:0}
.msg ul,.msg ol{padding-inline-start:20px}
.msg,.msg p,.msg li,.system,.notice,.preview span{unicode-bidi:plaintext;text-align:start}
.msg code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;background:rgba(0,0,0,.06);padding:1px 4px;border-radius:4px}
.msg pre{white-space:pre-wrap}
.msg a{color:inherit;text-decoration:underline}
.sources{margin-top:6px;padding-top:6px;border-top:1px solid #dde1ea;font-size:13px}
.sources a{display:block;color:var(--accent)}
.actions{display:flex;flex-wrap:wrap;gap:6px;align-self:flex-start;max-width:90%}
.actions button,.chip{border:1px solid var(--accent);color:var(--accent);border-radius:16px;padding:5px 12px;font-size:14px;background:#fff}
.actions button:hover,.chip:hover{background:#f3f5fa}
.act{align-self:stretch;border-color:var(--accent)}
.act .row{display:flex;gap:8px}
.act button{flex:1;border:1px solid #858d9e;border-radius:8px;padding:7px 10px;font-weight:650;background:#fff}
.act .yes{background:var(--accent);border-color:var(--accent);color:var(--on)}
.typing{font-size:13px;color:#5f6578;padding:0 18px 6px;flex:none}
.qline{font-size:13px;color:#4f566b;background:#f3f5fa;padding:5px 18px;flex:none}
.card{padding:12px;border:1px solid #858d9e;border-radius:10px;background:#f8f9fc;font-size:14px;flex:none}
.card p{margin:0 0 8px}
.card p:last-child{margin:0}
.field{display:block;width:100%;margin:0 0 8px;padding:8px 10px;border:1px solid #858d9e;border-radius:8px;background:#fff;color:#1f2330;font-size:14px}
.card textarea{resize:vertical;min-height:60px}
.stars{display:flex;gap:4px;margin-bottom:8px}
.stars button{flex:1;min-width:0;padding:6px 0;border:1px solid #858d9e;border-radius:8px;background:#fff;font-weight:650;display:flex;flex-direction:column;align-items:center}
.stars small{font-size:11px;font-weight:400}
.stars button:hover,.stars [aria-pressed=true]{border-color:var(--accent);color:var(--accent);box-shadow:inset 0 0 0 1px var(--accent)}
.confirm{display:flex;align-items:center;gap:8px;font-size:13px;margin-bottom:6px}
.confirm span{flex:1}
.confirm button{border:1px solid #858d9e;border-radius:8px;padding:4px 10px}
.confirm .yes{background:#b3261e;border-color:#b3261e;color:#fff}
.foot{border-top:1px solid #e5e8f0;padding:6px 12px 12px;flex:none;background:#fff}
.links{display:flex;justify-content:space-between;gap:8px;margin-bottom:6px}
.link{font-size:13px;color:var(--accent);padding:4px 2px;text-decoration:underline}
.link.end{color:#5f6578;margin-inline-start:auto}
.compose{display:flex;gap:8px;align-items:flex-end;margin:0}
.input{flex:1;min-width:0;resize:none;border:1px solid #858d9e;border-radius:10px;padding:9px 12px;height:40px;max-height:120px;line-height:20px;outline:none;background:#fff;color:#1f2330;font-size:15px}
.input:focus,.field:focus{outline:2px solid var(--accent);outline-offset:1px;border-color:var(--accent)}
.send,.primary{background:var(--accent);color:var(--on);border-radius:10px;height:40px;padding:0 16px;font-weight:650;flex:none}
.primary{width:100%}
.clip{width:40px;height:40px;border-radius:10px;color:#4f566b;display:flex;align-items:center;justify-content:center;flex:none}
.clip:hover{background:#f3f5fa;color:#1f2330}
.file{display:flex;align-items:center;gap:8px;white-space:normal}
.file .fname{text-decoration:underline;color:inherit}
.uploading{flex-wrap:wrap}
.uploading .fname{text-decoration:none;flex:1 1 100%}
.uploading progress{flex:1;height:6px;accent-color:var(--on)}
.stop{width:24px;height:24px;border-radius:50%;background:rgba(255,255,255,.25);color:inherit;font-size:16px;line-height:24px}
.msg.file:has(.thumb){padding:4px;background:#f0f2f7}
.thumb{display:block;border-radius:12px;overflow:hidden;cursor:zoom-in}
.thumb img{display:block;max-width:220px;max-height:180px;min-width:48px;min-height:48px;object-fit:cover}
.ferr{color:#b3261e}
.lightbox{position:absolute;inset:0;z-index:5;background:rgba(10,12,20,.88);display:flex;flex-direction:column;align-items:center;justify-content:center;gap:12px;padding:16px}
.lightbox img{max-width:100%;max-height:calc(100% - 56px);object-fit:contain;background:#fff}
.shut{background:#fff;color:#1f2330;border-radius:10px;padding:8px 18px;font-weight:650}
.sr{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:520px){
.preview,.left .preview{left:auto;right:16px;width:calc(100% - 32px)}
.panel,.left .panel{top:0;left:0;right:0;bottom:0;width:100%;height:100%;max-height:none;border-radius:0}
.open .launcher{display:none}
.x{display:flex}
.input,.field{font-size:16px}
}
@media (prefers-reduced-motion:no-preference){.panel{animation:baton-in .18s ease-out}}
@keyframes baton-in{from{opacity:0;transform:translateY(10px)}}
`;
