// When and from what the data behind the site was built (one row).
import {exportJson} from "../../loaders/site/export.ts";
await exportJson(`SELECT built_at, as_of, source, customers FROM marts.build_info`, {single: true});
