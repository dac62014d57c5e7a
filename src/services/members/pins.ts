/**
 * The member's PIN: set, changed and removed by the member in self-service (an admin may clear
 * it), and checked at a till, where it proves the member is there when points are spent on a
 * card number typed by hand. Stored as a PBKDF2 hash (lib/crypto.ts, WebCrypto on both runtimes);
 * neither the PIN nor its hash is ever logged or returned.
 */
import { and, eq, lt, sql } from "drizzle-orm";
import { memberPins } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { PIN_MAX_ATTEMPTS, PIN_PATTERN, weakPinReason } from "../../domain/pin.ts";
import { AppError, invalidField } from "../../errors.ts";
import { hashPassword, UNMATCHABLE_HASH, verifyPassword } from "../../lib/crypto.ts";
import { auditStatement } from "../../store/audit.ts";
import { findMemberRow } from "./members.ts";
import type { Principal } from "../../domain/principal.ts";

/** A new PIN replaces the old one and unlocks it: the attempts start again. */
export async function setMemberPin(deps: Deps, memberId: string, pin: string): Promise<void> {
  if (!PIN_PATTERN.test(pin)) throw invalidField("pin", "4 to 6 digits", "A PIN is 4 to 6 digits.");
  const weak = weakPinReason(pin);
  if (weak) throw invalidField("pin", weak, "Choose a PIN that is harder to guess.");
  await findMemberRow(deps, memberId);
  const pinHash = await hashPassword(pin);
  const now = deps.clock();
  await deps.database.atomic([
    deps.database.db
      .insert(memberPins)
      .values({ memberId, pinHash, failedAttempts: 0, setAt: now })
      .onConflictDoUpdate({ target: memberPins.memberId, set: { pinHash, failedAttempts: 0, setAt: now } }),
  ]);
}

/** Removes the PIN (the member's own wish, or an admin clearing a locked one; staff are audited). */
export async function removeMemberPin(deps: Deps, actor: Principal, memberId: string): Promise<void> {
  await findMemberRow(deps, memberId);
  await deps.database.atomic([
    deps.database.db.delete(memberPins).where(eq(memberPins.memberId, memberId)),
    ...(actor.role === "member" ? [] : [auditStatement(deps, actor, "member.pin.clear", { type: "member", id: memberId })]),
  ]);
}

const pinInvalid = () => new AppError("pin_invalid", "The PIN is wrong; the member may enter it again, or show the QR card.");
const pinLocked = () =>
  new AppError("pin_locked", `The member's PIN is locked after ${PIN_MAX_ATTEMPTS} wrong entries; scan the member's QR card. The member unlocks it by setting a new PIN.`);

/**
 * Checks a PIN entered at a till, or throws pin_invalid / pin_locked. Each check first takes one
 * of the attempts left in SQL (a relative, conditional UPDATE) and only then compares, so checks
 * sent together cannot share a count read earlier: however many arrive at once, at most
 * PIN_MAX_ATTEMPTS are ever compared before the PIN is locked. A right PIN starts the count again.
 */
export async function verifyMemberPin(deps: Deps, memberId: string, pin: string): Promise<void> {
  const { db } = deps.database;
  const [row] = await db.select().from(memberPins).where(eq(memberPins.memberId, memberId));
  if (!row) {
    // No PIN is set: answered as a wrong one, after as long, so a till learns nothing from it.
    await verifyPassword(pin, UNMATCHABLE_HASH);
    throw pinInvalid();
  }
  if (row.failedAttempts >= PIN_MAX_ATTEMPTS) throw pinLocked();
  // Conditional on the hash too: the attempt counts against the PIN that is compared below.
  const thisPin = and(eq(memberPins.memberId, memberId), eq(memberPins.pinHash, row.pinHash));
  const [counted] = await deps.database.atomic([
    db
      .update(memberPins)
      .set({ failedAttempts: sql`${memberPins.failedAttempts} + 1` })
      .where(and(thisPin, lt(memberPins.failedAttempts, PIN_MAX_ATTEMPTS))),
  ]);
  if (counted !== 1) {
    // No attempt left (checks that came at the same moment took them), or the member changed
    // the PIN meanwhile, in which case this entry was for the old one.
    const [same] = await db.select({ memberId: memberPins.memberId }).from(memberPins).where(thisPin);
    throw same ? pinLocked() : pinInvalid();
  }
  if (!(await verifyPassword(pin, row.pinHash))) throw pinInvalid();
  await deps.database.atomic([db.update(memberPins).set({ failedAttempts: 0 }).where(thisPin)]);
}
