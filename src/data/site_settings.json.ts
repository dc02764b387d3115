// Where the site's pages may send requests: the API origins the Customer 360 summary panel may
// call (and send an API key to). Fixed when the site is built — SITE_API_ORIGINS, comma-separated,
// default the API `npm start` runs — so a crafted `?api=` link cannot collect keys.
import {apiOriginsFrom} from "../../loaders/site/site-settings.ts";
process.stdout.write(JSON.stringify({api_origins: apiOriginsFrom(process.env.SITE_API_ORIGINS)}));
