/** The stylesheet both pages inline: readable on screen, quiet on paper. */
export const STYLES = `
:root {
  color-scheme: light;
  --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; --accent: #0b57d0;
  --ok-bg: #dafbe1; --ok-ink: #116329; --bad-bg: #ffebe9; --bad-ink: #a40e26;
  --warn-bg: #fff8c5; --warn-ink: #7d4e00; --off-bg: #eaeef2; --off-ink: #424a53;
}
* { box-sizing: border-box; }
html { font-size: 15px; }
body {
  margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
.skip { position: absolute; left: -999px; top: 0; background: var(--ink); color: #fff; padding: .5rem 1rem; }
.skip:focus { left: 0; z-index: 1; }
a { color: var(--accent); }
a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.page-header, main, .page-footer { max-width: 76rem; margin: 0 auto; padding: 0 1.5rem; }
.page-header { padding-top: 1.5rem; padding-bottom: .5rem; border-bottom: 1px solid var(--line); }
.page-header h1 { margin: .2rem 0; font-size: 1.75rem; }
.eyebrow { margin: 0; color: var(--muted); font-size: .85rem; letter-spacing: .04em; text-transform: uppercase; }
.page-header nav ul { list-style: none; display: flex; gap: 1.25rem; padding: 0; margin: .5rem 0 0; }
.page-header nav a[aria-current="page"] { font-weight: 600; color: var(--ink); text-decoration: none; }
.meta { color: var(--muted); margin: .25rem 0; }
h2 { font-size: 1.35rem; margin: 2rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .4rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
pre.rule { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; overflow-x: auto; margin: .25rem 0; white-space: pre; }
.overview { display: flex; flex-wrap: wrap; gap: .75rem; padding: 0; list-style: none; margin: 1rem 0; }
.overview li { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .9rem; min-width: 9rem; }
.overview strong { display: block; font-size: 1.4rem; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .25rem 0 1rem; font-size: .93rem; }
caption { text-align: left; color: var(--muted); padding: .25rem 0; caption-side: top; }
th, td { text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
thead th { background: var(--soft); font-weight: 600; border-bottom: 2px solid var(--line); white-space: nowrap; }
tbody tr:nth-child(even) { background: #fbfcfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.checks { min-width: 12rem; }
.sub { display: block; color: var(--muted); font-size: .85em; }
.badge { display: inline-block; border-radius: 999px; padding: 0 .55rem; font-size: .8rem; font-weight: 600; line-height: 1.6; white-space: nowrap; }
.badge.published, .badge.pass { background: var(--ok-bg); color: var(--ok-ink); }
.badge.held, .badge.fail { background: var(--bad-bg); color: var(--bad-ink); }
.badge.warn { background: var(--warn-bg); color: var(--warn-ink); }
.badge.deprecated, .badge.none { background: var(--off-bg); color: var(--off-ink); }
.cohort { border-top: 1px solid var(--line); margin-top: 2rem; }
.cohort > h2 { margin-top: 1.25rem; }
.grid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1.5rem; }
.chart { position: relative; height: 240px; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
.chart canvas { width: 100%; height: 100%; }
.legend { color: var(--muted); font-size: .85rem; margin: .3rem 0 0; }
.held-mark { color: var(--bad-ink); }
dl.fields { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .3rem 1rem; margin: .25rem 0; }
dl.fields dt { font-weight: 600; color: var(--muted); }
dl.fields dd { margin: 0; }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.flags { padding-left: 1.2rem; margin: .25rem 0; }
ul.learnings { list-style: none; padding: 0; margin: .25rem 0; }
ul.learnings li { border-left: 3px solid var(--line); padding-left: .75rem; margin-bottom: .5rem; }
ul.learnings p { margin: .1rem 0; }
.none-text { color: var(--muted); font-style: italic; }
figure.diff { margin: .5rem 0; }
figure.diff figcaption { color: var(--muted); font-size: .85rem; }
pre.rule .diff-add { display: block; background: var(--ok-bg); color: var(--ok-ink); }
pre.rule .diff-del { display: block; background: var(--bad-bg); color: var(--bad-ink); }
pre.rule .diff-same { display: block; }
.open-panel { border: 1px solid var(--line); border-left-width: 4px; border-radius: 6px; padding: 0 .9rem; margin: .75rem 0; }
.open-panel.pending { border-left-color: var(--warn-ink); }
.open-panel.refused { border-left-color: var(--bad-ink); }
.open-panel h3 { margin-top: .75rem; }
table.open-changes time, table.definitions time { white-space: nowrap; }
.entry { border-top: 1px solid var(--line); padding-bottom: .5rem; }
.entry.retired h2 { color: var(--muted); }
.toc { columns: 3 14rem; padding-left: 1.2rem; }
.page-footer { color: var(--muted); font-size: .85rem; padding-top: 1rem; padding-bottom: 2rem; border-top: 1px solid var(--line); margin-top: 2rem; }
@media (max-width: 60rem) { .grid { grid-template-columns: minmax(0, 1fr); } }
@media print {
  html { font-size: 11pt; }
  .skip, .page-header nav { display: none; }
  a { color: inherit; text-decoration: none; }
  .page-header, main, .page-footer { max-width: none; padding: 0; }
  .cohort, .entry { break-before: page; border-top: 0; }
  table, .chart, pre.rule, dl.fields { break-inside: avoid; }
  thead { display: table-header-group; }
  .table-wrap { overflow: visible; }
  .badge { border: 1px solid currentColor; }
}
`;
