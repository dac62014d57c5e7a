/**
 * The signing key ring, kept in `signing_keys`: one active key signs; retired keys stay in the
 * JWKS and keep verifying until an admin removes them. Several processes (or Worker isolates)
 * share the table. Each keeps the keys it imported, and before every use reads the ring's
 * fingerprint — one small query — so a rotation or a removal holds on every process as soon as
 * it is committed: the call that made it has returned only after that.
 */
import { eq, sql } from "drizzle-orm";
import type { JWK } from "jose";
import { prepared, type Database } from "../../db/database.ts";
import { signingKeys } from "../../db/schema.ts";
import { AppError } from "../errors.ts";
import { generateKeyPair, importKey, newKid, publicJwkOf, thumbprint } from "./jwt.ts";

interface LoadedKey {
  kid: string;
  status: "active" | "retired";
  publicJwk: JWK;
  publicKey: CryptoKey;
  privateKey: CryptoKey | null;
  createdAt: number;
  retiredAt: number | null;
}

export interface KeyRing {
  /** The active key, with its private half. */
  signingKey(): Promise<{ kid: string; key: CryptoKey }>;
  /** The public key for a kid, active or retired; null when unknown. */
  verificationKey(kid: string): Promise<CryptoKey | null>;
  jwks(): Promise<{ keys: JWK[] }>;
  list(): Promise<Array<{ kid: string; status: string; createdAt: number; retiredAt: number | null }>>;
  /** Makes a new key active and retires the current one. */
  rotate(): Promise<{ kid: string }>;
  /** Removes a retired key: tokens signed with it stop verifying. */
  remove(kid: string): Promise<void>;
  /** Creates the first key, or installs the one from SIGNING_KEY. Idempotent. */
  ensure(): Promise<void>;
}

export function createKeyRing(opts: {
  database: Database;
  clock: () => number;
  /** A private Ed25519 JWK (JSON) from the SIGNING_KEY secret. */
  externalPrivateJwk?: string | undefined;
}): KeyRing {
  const { database, clock } = opts;
  const { db } = database;
  let cache: { fingerprint: string; keys: LoadedKey[] } | null = null;
  let external: { kid: string; privateJwk: JWK; publicJwk: JWK } | null = null;

  async function externalKey() {
    if (!opts.externalPrivateJwk || external) return external;
    let jwk: JWK;
    try {
      jwk = JSON.parse(opts.externalPrivateJwk) as JWK;
    } catch {
      throw new Error("SIGNING_KEY is not a JSON Web Key");
    }
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.d) {
      throw new Error("SIGNING_KEY must be a private Ed25519 JWK (kty OKP, crv Ed25519, d)");
    }
    // A 4-character kid from the key's own thumbprint: stable across restarts, small in QR codes.
    const kid = (await thumbprint(publicJwkOf(jwk, ""))).slice(0, 4);
    external = { kid, privateJwk: { ...jwk, kid }, publicJwk: publicJwkOf(jwk, kid) };
    return external;
  }

  /**
   * Every kid with its status. Read before the rows a load imports, so that a change in between
   * makes the next check reload rather than keep the older rows. (SQLite lists them in the
   * table's order; were that ever to change, keys would only be reloaded more often.)
   */
  async function fingerprint(): Promise<string> {
    const query = prepared(db, "keys.fingerprint", (d) =>
      d.select({ ring: sql<string | null>`group_concat(${signingKeys.kid} || ':' || ${signingKeys.status}, ',')` }).from(signingKeys).prepare(),
    );
    return (await query.get())?.ring ?? "";
  }

  async function load(): Promise<LoadedKey[]> {
    const ring = await fingerprint();
    const rows = await db.select().from(signingKeys);
    const ext = await externalKey();
    const keys = await Promise.all(
      rows.map(async (row): Promise<LoadedKey> => {
        const publicJwk = JSON.parse(row.publicJwk) as JWK;
        const privateJwk =
          row.privateJwk !== null
            ? (JSON.parse(row.privateJwk) as JWK)
            : ext?.kid === row.kid
              ? ext.privateJwk
              : null;
        return {
          kid: row.kid,
          status: row.status,
          publicJwk,
          publicKey: await importKey(publicJwk),
          privateKey: privateJwk ? await importKey(privateJwk) : null,
          createdAt: row.createdAt,
          retiredAt: row.retiredAt,
        };
      }),
    );
    cache = { fingerprint: ring, keys };
    return keys;
  }

  async function keys(): Promise<LoadedKey[]> {
    if (cache && cache.fingerprint === (await fingerprint())) return cache.keys;
    return load();
  }

  async function insertActive(kid: string, publicJwk: JWK, privateJwk: JWK | null) {
    const now = clock();
    await database.atomic([
      db
        .update(signingKeys)
        .set({ status: "retired", retiredAt: now })
        .where(eq(signingKeys.status, "active")),
      db.insert(signingKeys).values({
        kid,
        publicJwk: JSON.stringify(publicJwk),
        privateJwk: privateJwk ? JSON.stringify(privateJwk) : null,
        status: "active",
        createdAt: now,
      }),
    ]);
    cache = null;
  }

  async function freshKid(): Promise<string> {
    const taken = new Set((await load()).map((k) => k.kid));
    let kid = newKid();
    while (taken.has(kid)) kid = newKid();
    return kid;
  }

  const ring: KeyRing = {
    async signingKey() {
      const active = (await keys()).find((k) => k.status === "active");
      if (!active?.privateKey) {
        throw new Error("No active signing key with a private half: set SIGNING_KEY or rotate");
      }
      return { kid: active.kid, key: active.privateKey };
    },
    async verificationKey(kid) {
      return (await keys()).find((k) => k.kid === kid)?.publicKey ?? null;
    },
    async jwks() {
      return { keys: (await keys()).map((k) => k.publicJwk) };
    },
    async list() {
      return (await load()).map(({ kid, status, createdAt, retiredAt }) => ({
        kid,
        status,
        createdAt,
        retiredAt,
      }));
    },
    async rotate() {
      const kid = await freshKid();
      const pair = await generateKeyPair(kid);
      await insertActive(kid, pair.publicJwk, pair.privateJwk);
      return { kid };
    },
    async remove(kid) {
      const found = (await load()).find((k) => k.kid === kid);
      if (!found) throw new AppError("not_found", `No signing key ${kid}.`);
      if (found.status === "active") {
        throw new AppError("signing_key_in_use", "The active key cannot be removed; rotate first.");
      }
      await database.atomic([db.delete(signingKeys).where(eq(signingKeys.kid, kid))]);
      cache = null;
    },
    async ensure() {
      const current = await load();
      const ext = await externalKey();
      if (ext) {
        const active = current.find((k) => k.status === "active");
        if (active?.kid === ext.kid) return;
        const known = current.find((k) => k.kid === ext.kid);
        if (known) {
          // The secret names a key we retired earlier: make it active again.
          await database.atomic([
            db.update(signingKeys).set({ status: "retired", retiredAt: clock() }).where(eq(signingKeys.status, "active")),
            db.update(signingKeys).set({ status: "active", retiredAt: null }).where(eq(signingKeys.kid, ext.kid)),
          ]);
          cache = null;
          return;
        }
        await insertActive(ext.kid, ext.publicJwk, null);
        return;
      }
      if (current.some((k) => k.status === "active")) return;
      try {
        await ring.rotate();
      } catch (error) {
        // Another process created the first key at the same moment: the UNIQUE index kept one.
        if (!(await load()).some((k) => k.status === "active")) throw error;
      }
    },
  };
  return ring;
}
