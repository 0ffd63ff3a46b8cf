// The widget's stylesheet, scoped by its shadow root. `:host { all: initial }` stops the page's inherited
// styles (fonts, colours, line heights) at the boundary; the page's selectors cannot reach inside.
export const CSS = `
:host{all:initial!important;display:block!important}
*{box-sizing:border-box}
.fs-root{--fs-primary:#0066CC;--fs-on-primary:#fff;--fs-bg:#fff;--fs-fg:#1d2430;--fs-muted:#5b6472;--fs-line:#dde1e7;--fs-soft:#f3f5f8;
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fs-fg);position:fixed;z-index:2147483000;right:20px;bottom:20px}
.fs-sr-only{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
button{font:inherit;color:inherit;cursor:pointer}
button:disabled{cursor:default;opacity:.55}
:focus-visible{outline:3px solid var(--fs-primary);outline-offset:2px}
.fs-launcher{width:60px;height:60px;border-radius:50%;border:0;background:var(--fs-primary);color:var(--fs-on-primary);box-shadow:0 6px 20px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;padding:0}
.fs-launcher svg{width:28px;height:28px;fill:currentColor}
.fs-launcher img{width:34px;height:34px;border-radius:50%;object-fit:cover;background:#fff}
.fs-panel{position:absolute;right:0;bottom:76px;width:380px;height:min(620px,calc(100vh - 110px));background:var(--fs-bg);border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.28);display:flex;flex-direction:column;overflow:hidden;border:1px solid var(--fs-line)}
.fs-panel[hidden],.fs-history[hidden],.fs-notice[hidden],[hidden]{display:none!important}
.fs-header{display:flex;align-items:center;gap:8px;padding:10px 10px 10px 14px;background:var(--fs-primary);color:var(--fs-on-primary)}
.fs-header img{width:28px;height:28px;border-radius:6px;object-fit:cover;background:#fff}
.fs-title{flex:1;margin:0;font-size:16px;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.fs-icon{background:transparent;border:0;color:inherit;width:34px;height:34px;border-radius:8px;font-size:18px;line-height:1;display:flex;align-items:center;justify-content:center}
.fs-icon:hover{background:rgba(255,255,255,.18)}
.fs-history{border-bottom:1px solid var(--fs-line);max-height:45%;overflow:auto;background:var(--fs-soft)}
.fs-history h3{margin:10px 14px 4px;font-size:13px;color:var(--fs-muted);font-weight:600}
.fs-history ul{list-style:none;margin:0;padding:4px 6px 8px}
.fs-history li button{display:block;width:100%;text-align:left;background:none;border:0;border-radius:8px;padding:8px 10px}
.fs-history li button:hover,.fs-history li button[aria-current=true]{background:#fff}
.fs-history small{display:block;color:var(--fs-muted);font-size:12px}
.fs-notice{margin:8px 12px 0;padding:8px 10px;border-radius:8px;background:#fdecea;color:#8a1c12;font-size:13px}
.fs-conn{margin:6px 12px 0;font-size:12px;color:var(--fs-muted)}
.fs-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}
.fs-empty{color:var(--fs-muted);text-align:center;margin:auto 10px;font-size:14px}
.fs-msg{max-width:88%;padding:8px 12px;border-radius:14px;word-wrap:break-word;overflow-wrap:anywhere}
.fs-user{align-self:flex-end;background:var(--fs-primary);color:var(--fs-on-primary);border-bottom-right-radius:4px;white-space:pre-wrap}
.fs-assistant{align-self:flex-start;background:var(--fs-soft);border-bottom-left-radius:4px}
.fs-msg.fs-failed{opacity:.7;border:1px dashed #c0392b}
.fs-msg p{margin:0 0 8px}.fs-msg p:last-child{margin-bottom:0}
.fs-msg h3,.fs-msg h4,.fs-msg h5,.fs-msg h6{margin:8px 0 4px;font-size:15px}
.fs-msg ul,.fs-msg ol{margin:4px 0 8px;padding-left:22px}
.fs-msg pre{background:#1d2430;color:#f3f5f8;padding:8px;border-radius:8px;overflow:auto;font-size:13px}
.fs-msg code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
.fs-msg :not(pre)>code{background:rgba(0,0,0,.07);padding:1px 4px;border-radius:4px}
.fs-msg blockquote{margin:4px 0;padding-left:10px;border-left:3px solid var(--fs-line);color:var(--fs-muted)}
.fs-msg a{color:var(--fs-primary);text-decoration:underline}
.fs-user a{color:inherit}
.fs-table{overflow:auto}.fs-msg table{border-collapse:collapse;font-size:13px}.fs-msg th,.fs-msg td{border:1px solid var(--fs-line);padding:3px 6px}
.fs-tool{margin:6px 0;padding:8px 10px;border:1px solid var(--fs-line);border-radius:10px;background:#fff;font-size:13px}
.fs-tool-head{display:flex;align-items:center;gap:6px;font-weight:600}
.fs-tool dl{margin:6px 0 0;display:grid;grid-template-columns:auto 1fr;gap:2px 8px}
.fs-tool dt{color:var(--fs-muted)}.fs-tool dd{margin:0;overflow-wrap:anywhere}
.fs-actions{display:flex;gap:8px;margin-top:8px}
.fs-btn{border-radius:8px;padding:6px 14px;border:1px solid var(--fs-primary);background:#fff;color:var(--fs-primary);font-weight:600}
.fs-btn.fs-primary{background:var(--fs-primary);color:var(--fs-on-primary)}
.fs-spin{width:12px;height:12px;border:2px solid var(--fs-line);border-top-color:var(--fs-primary);border-radius:50%;animation:fs-spin .8s linear infinite;flex:none}
@keyframes fs-spin{to{transform:rotate(360deg)}}
.fs-ok{color:#1e7b34}.fs-err{color:#b3261e}
.fs-sources{margin:6px 0 0;font-size:13px}.fs-sources ol{margin:2px 0;padding-left:20px}
.fs-download{display:inline-flex;align-items:center;gap:6px;margin-top:6px;padding:5px 10px;border-radius:8px;background:var(--fs-primary);color:var(--fs-on-primary)!important;text-decoration:none!important;font-weight:600}
.fs-error-text{color:#b3261e;font-size:13px}
.fs-status{color:var(--fs-muted);font-size:12px;margin-top:4px}
.fs-typing{display:inline-flex;gap:3px}.fs-typing i{width:6px;height:6px;border-radius:50%;background:var(--fs-muted);animation:fs-blink 1.2s infinite}
.fs-typing i:nth-child(2){animation-delay:.2s}.fs-typing i:nth-child(3){animation-delay:.4s}
@keyframes fs-blink{0%,80%,100%{opacity:.25}40%{opacity:1}}
.fs-composer{display:flex;gap:8px;align-items:flex-end;padding:10px;border-top:1px solid var(--fs-line)}
.fs-composer textarea{flex:1;resize:none;font:inherit;color:inherit;border:1px solid var(--fs-line);border-radius:10px;padding:8px 10px;max-height:120px;min-height:40px;background:#fff}
.fs-send,.fs-stop{width:40px;height:40px;border-radius:10px;border:0;background:var(--fs-primary);color:var(--fs-on-primary);display:flex;align-items:center;justify-content:center;flex:none}
.fs-send svg,.fs-stop svg{width:18px;height:18px;fill:currentColor}
.fs-foot{font-size:11px;color:var(--fs-muted);text-align:center;padding:0 0 6px}
@media (max-width:480px){.fs-root{right:12px;bottom:12px}.fs-root[data-open] .fs-launcher{display:none}
.fs-panel{position:fixed;inset:0;width:100%;height:100%;border-radius:0;border:0}}
@media (prefers-reduced-motion:reduce){.fs-spin,.fs-typing i{animation:none}}
`;
