/**
 * Observable Framework configuration for the SaaSGuard dashboard site.
 *
 * The site must build and run with no internet at all (see loaders/site/prepare-framework.ts
 * and docs in DESIGN.md): no web fonts, no CDN, no DuckDB extension downloads.
 *
 * - `SAASGUARD_SITE_OUT` picks the output directory (default `dist`), so the build step can
 *   write into a temporary directory and swap it in only when the build succeeded.
 * - The sidebar lists the dashboards in the order a CS team uses them; index.md is the home
 *   page (Executive overview). Reports are every page under src/reports/ (loaders/site/reports.ts),
 *   so a new report appears without editing this file.
 */
import {reportPages} from "./loaders/site/reports.ts";

const output = process.env.SAASGUARD_SITE_OUT ?? "dist";

export default {
  title: "SaaSGuard",
  root: "src",
  output,
  pages: [
    {name: "Executive overview", path: "/"},
    {name: "Customer 360", path: "/customer-360"},
    {name: "CSM queue", path: "/csm-queue"},
    {name: "Playbook results", path: "/playbook-results"},
    {name: "Renewals", path: "/renewals"},
    {name: "Renewal forecast", path: "/renewal-forecast"},
    {
      name: "Portfolio",
      open: true,
      pages: [
        {name: "Churn Heatmap", path: "/churn-heatmap"},
        {name: "Risk Drill-Down", path: "/risk-drill-down"},
        {name: "Propensity Quadrant", path: "/propensity-quadrant"},
        {name: "Uplift Simulator", path: "/uplift-simulator"},
      ],
    },
    {name: "Model and score quality", path: "/model-quality"},
    {
      name: "Reports",
      open: true,
      pages: [
        ...reportPages("src").map(({name, path}) => ({name, path})),
        {name: "Data dictionary", path: "/data-dictionary"},
        {name: "Report template", path: "/report-template"},
      ],
    },
  ],
  // Framework's default global stylesheet fetches a Google web font on every page view.
  globalStylesheets: [],
  // local theme (Framework's light theme + system fonts + SaaSGuard colours)
  style: "style.css",
  head: `<meta name="robots" content="noindex"><link rel="icon" href="data:,">`,
  header: "",
  footer: `SaaSGuard — customer health &amp; churn risk. Internal use only: contains customer revenue data.`,
  sidebar: true,
  pager: false,
  toc: false,
  search: false,
  // DuckDB-WASM without extension downloads: Parquet is decoded by parquet-wasm in the browser
  // (src/components/db.ts), and nothing needs JSON support inside DuckDB.
  duckdb: {extensions: {json: null, parquet: null}},
  // data loaders are TypeScript run with tsx (Framework's default interpreter for .ts)
};
