/**
 * SHA-256 hashes API keys, admin tokens, OTP codes and idempotency fingerprints that are already
 * stored: it must be the standard digest of the UTF-8 bytes, whatever the text.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/crypto.ts";

async function webCryptoHex(text: string) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("sha256Hex", () => {
  it("gives the published digests", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Hex("단골 ☕")).toBe("bcffb0bf4e040f81e4082c0e417cbedc42f118e87282134dc985e2bf51748cd7");
  });

  it("agrees with WebCrypto on any text, across block boundaries", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 300 }), async (text) => {
        expect(sha256Hex(text)).toBe(await webCryptoHex(text));
      }),
      { numRuns: 300 },
    );
  });
});
