// Where the site's pages may send requests: the API origins the Customer 360 summary panel may
// call (and send an API key to). Fixed when the site is built — SITE_API_ORIGINS, comma-separated,
// default the API `npm start` runs — so a crafted `?api=` link cannot collect keys.
// SITE_API_URL, when set, is where pages on a static host find the API without `?api=`.
import {siteSettings} from "../../loaders/site/site-settings.ts";
process.stdout.write(JSON.stringify(siteSettings(process.env)));
