import {problem} from "../schemas.ts";

/** The error answers every protected route can give, for the OpenAPI document. */
export const COMMON_RESPONSES = {
  401: problem("Missing or invalid API key"),
  403: problem("The key's role is not enough"),
  429: problem("Rate limit exceeded"),
  503: problem("Data or model not available yet, or timed out"),
};
