// The churn model (models/churn_model.onnx) for the Customer 360 what-if panel, which scores it
// in the browser with onnxruntime-web. Empty when no model has been trained.
import {existsSync} from "node:fs";
import {readFile} from "node:fs/promises";
import {fileURLToPath} from "node:url";

const file = fileURLToPath(new URL("../../models/churn_model.onnx", import.meta.url));
process.stdout.write(existsSync(file) ? await readFile(file) : Buffer.alloc(0));
