/**
 * The member's PIN: set, changed and removed by the member in self-service (an admin may clear
 * it), and checked at a till, where it proves the member is there when points are spent on a
 * card number typed by hand. Stored as a PBKDF2 hash (lib/crypto.ts, WebCrypto on both runtimes);
 * neither the PIN nor its hash is ever logged or returned.
 */
import { eq } from "drizzle-orm";
import { memberPins } from "../../db/schema.ts";
import type { Deps } from "../deps.ts";
import { PIN_PATTERN, weakPinReason } from "../domain/pin.ts";
import { invalidField } from "../errors.ts";
import { hashPassword } from "../lib/crypto.ts";
import { auditStatement } from "./audit.ts";
import { findMemberRow } from "./members.ts";
import type { Principal } from "./principal.ts";

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
