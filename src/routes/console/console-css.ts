/**
 * The admin console's stylesheet. Every style of the console is here: its CSP (`style-src 'self'`)
 * allows no inline `<style>` and no `style=` attribute. System fonts only, so nothing downloads.
 */
export const CONSOLE_CSS = `:root {
  --ink: #1d2330;
  --muted: #5d6577;
  --line: #dfe3ea;
  --paper: #ffffff;
  --ground: #f4f6f9;
  --accent: #2f5bd3;
  --accent-soft: #e7edfc;
  --danger: #b42318;
  --danger-soft: #fdecea;
  --ok: #1c7c44;
  --ok-soft: #e5f4ea;
  --warn: #8a5a00;
  --warn-soft: #fff4dc;
  color-scheme: light;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink);
  background: var(--ground);
}

[hidden] { display: none !important; }

* { box-sizing: border-box; }

body { margin: 0; min-height: 100vh; }

a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }

h1 { font-size: 22px; margin: 0 0 16px; }
h2 { font-size: 15px; margin: 0 0 10px; }

.top {
  display: flex;
  align-items: center;
  gap: 24px;
  padding: 0 24px;
  height: 52px;
  background: var(--ink);
  color: #fff;
}
.brand { color: #fff; font-weight: 650; letter-spacing: .01em; }
.brand span { color: #a9b8e8; font-weight: 500; margin-left: 4px; }
.top nav { display: flex; gap: 4px; }
.top nav a { color: #cfd6e6; padding: 6px 10px; border-radius: 6px; }
.top nav a:hover { background: #2c3446; text-decoration: none; }
.top nav a[aria-current="page"] { color: #fff; background: #364058; }
.who { margin-left: auto; display: flex; align-items: center; gap: 12px; color: #cfd6e6; }

main { max-width: 1180px; margin: 0 auto; padding: 24px; }

.notice {
  max-width: 1132px;
  margin: 16px auto 0;
  padding: 10px 14px;
  border-radius: 8px;
  border: 1px solid;
}
.notice[data-kind="ok"] { background: var(--ok-soft); border-color: #b5dcc3; color: var(--ok); }
.notice[data-kind="error"] { background: var(--danger-soft); border-color: #f3c1bb; color: var(--danger); }

.card, .panel {
  background: var(--paper);
  border: 1px solid var(--line);
  border-radius: 10px;
  padding: 16px 18px;
  margin-bottom: 16px;
}

.sign-in { max-width: 380px; margin: 48px auto; padding: 24px; }
.sign-in p { color: var(--muted); margin: 0 0 16px; }
.sign-in .problem { color: var(--danger); }

label { display: block; margin-bottom: 12px; font-weight: 550; }
label input { display: block; width: 100%; margin-top: 4px; font-weight: 400; }

input, select, button { font: inherit; color: inherit; }
input, select {
  padding: 7px 10px;
  border: 1px solid #c5cbd6;
  border-radius: 6px;
  background: #fff;
}
input:focus, select:focus, button:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }

button {
  padding: 7px 14px;
  border: 1px solid #c5cbd6;
  border-radius: 6px;
  background: #fff;
  cursor: pointer;
}
button:hover { background: #f0f2f6; }
button:disabled { opacity: .55; cursor: default; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover { background: #284fb9; }
button.danger { color: var(--danger); border-color: #e7a49c; }
button.danger:hover { background: var(--danger-soft); }
.top button { background: transparent; color: #fff; border-color: #566079; padding: 4px 12px; }
.top button:hover { background: #2c3446; }
.sign-in button { width: 100%; margin-top: 4px; }
.link-button { border: 0; background: none; color: var(--accent); padding: 0; margin-top: 12px; }
.link-button:hover { background: none; text-decoration: underline; }

.toolbar { display: flex; gap: 8px; margin-bottom: 16px; }
.toolbar input[type="search"] { flex: 0 1 360px; }

.tabs { display: flex; gap: 4px; margin-bottom: 10px; }
.tabs a { padding: 4px 10px; border-radius: 6px; color: var(--muted); }
.tabs a[aria-current="page"] { background: var(--accent-soft); color: var(--accent); }

table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
tbody tr:last-child td { border-bottom: 0; }
tbody tr:hover { background: #fafbfd; }
td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
td.wrap { word-break: break-word; max-width: 340px; }
time { white-space: nowrap; }

.badge {
  display: inline-block;
  padding: 1px 8px;
  border-radius: 999px;
  font-size: 12px;
  font-weight: 600;
  background: #eef0f4;
  color: var(--muted);
}
.badge.accent { background: var(--accent-soft); color: var(--accent); }
.badge.ok { background: var(--ok-soft); color: var(--ok); }
.badge.danger { background: var(--danger-soft); color: var(--danger); }
.badge.warn { background: var(--warn-soft); color: var(--warn); }

.pager { display: flex; align-items: center; gap: 10px; margin-top: 10px; color: var(--muted); }
.pager button { padding: 3px 10px; }

.muted, .empty { color: var(--muted); }
.empty { margin: 4px 0; }
.problem { color: var(--danger); background: var(--danger-soft); border-radius: 6px; padding: 8px 12px; }

.title-row { display: flex; align-items: center; gap: 10px; margin-bottom: 12px; }
.title-row h1 { margin: 0; }
.back { display: inline-block; margin-bottom: 10px; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 16px; }

.profile { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 10px 24px; margin: 0; }
.profile div { min-width: 0; }
.profile dt { font-size: 12px; color: var(--muted); }
.profile dd { margin: 2px 0 0; overflow-wrap: anywhere; }

dialog {
  border: 1px solid var(--line);
  border-radius: 10px;
  padding: 20px;
  max-width: 440px;
  box-shadow: 0 12px 40px rgba(20, 28, 45, .25);
}
dialog::backdrop { background: rgba(20, 28, 45, .45); }
dialog p { margin: 0 0 18px; }
dialog .dialog-actions { display: flex; justify-content: flex-end; gap: 8px; }
`;
