// Database descriptor JSON in Fluss's form (DatabaseDescriptorJsonSerde): what CreateDatabase
// stores and GetDatabaseInfo answers, so Fluss's clients can parse it.

import { Errors } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { flussDatabaseJson } from "../src/coordinator/database-json.ts";

describe("flussDatabaseJson", () => {
  it("turns no JSON, or {}, into Fluss's empty descriptor", () => {
    expect(flussDatabaseJson("")).toEqual({ version: 1, custom_properties: {} });
    expect(flussDatabaseJson("{}")).toEqual({ version: 1, custom_properties: {} });
  });

  it("keeps the comment and the custom properties, as strings", () => {
    const json = flussDatabaseJson('{"version":1,"comment":"c","custom_properties":{"a":"1","b":2}}');
    expect(json).toEqual({ version: 1, comment: "c", custom_properties: { a: "1", b: "2" } });
    expect(Object.keys(json)).toEqual(["version", "comment", "custom_properties"]);
  });

  it("refuses what is not a JSON object with INVALID_DATABASE_EXCEPTION", () => {
    for (const bad of ["[1]", "nope", '{"custom_properties":[]}', "null"]) {
      expect(() => flussDatabaseJson(bad), bad).toThrow(
        expect.objectContaining({ code: Errors.INVALID_DATABASE_EXCEPTION.code }),
      );
    }
  });
});
