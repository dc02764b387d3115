// The playbooks (src/rules/playbooks.ts, the one place they are written down) as
// JSON for the pages: the risk-tier plays and the renewal stages.
import {riskPlaybooks, renewal} from "../rules/playbooks.ts";
process.stdout.write(JSON.stringify({riskPlaybooks, renewalStages: renewal.stages}) + "\n");
