/**
 * What the static site is built to call: SITE_API_ORIGINS (origins that may get a request and an
 * API key) and SITE_API_URL (where pages on a static host find the API without `?api=`). A bad
 * value fails the build naming the variable, and the URL's origin is always one the site allows.
 */
import {describe, expect, it} from "vitest";
import {apiOriginsFrom, apiUrlFrom, DEFAULT_API_ORIGINS, siteSettings} from "../loaders/site/site-settings.ts";

describe("site settings", () => {
  it("defaults to the API of npm start and no build-time URL", () => {
    expect(siteSettings({})).toEqual({api_origins: DEFAULT_API_ORIGINS, api_url: null});
  });

  it("takes a build-time API URL with a path, and allows its origin", () => {
    expect(
      siteSettings({SITE_API_URL: "https://cs.example.com/saasguard/api", SITE_API_ORIGINS: "https://api.example.com"}),
    ).toEqual({
      api_origins: ["https://api.example.com", "https://cs.example.com"],
      api_url: "https://cs.example.com/saasguard/api/",
    });
    expect(siteSettings({SITE_API_URL: "http://127.0.0.1:8000/"}).api_origins).toEqual(DEFAULT_API_ORIGINS);
  });

  it("refuses what is not an API URL or an origin, naming the variable", () => {
    for (const bad of [
      "not a url",
      "ftp://cs.example.com/",
      "https://cs.example.com/?key=1",
      "https://u:p@cs.example.com/",
    ])
      expect(() => apiUrlFrom(bad), bad).toThrow(/^SITE_API_URL: /);
    for (const bad of ["cs.example.com", "https://cs.example.com/api"])
      expect(() => apiOriginsFrom(bad), bad).toThrow(/^SITE_API_ORIGINS: /);
  });
});
