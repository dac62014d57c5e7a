/**
 * Ingesting interactions on D1: several atomic units in one call (rows and profile totals travel
 * as one JSON parameter each, within D1's 100 bound parameters), resends found as duplicates, and
 * the member's history read back.
 */
import { describe, expect, it } from "vitest";
import { call, givenMember, jsonOf, unique } from "./client.ts";

interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: Array<{ status: string; errors?: Array<{ field: string }> }>;
}

describe("interactions on D1", () => {
  it("takes a batch of 300, recognises a resend, and lists them", async () => {
    const member = await givenMember();
    const tag = unique();
    const now = Date.now();
    const events: unknown[] = Array.from({ length: 300 }, (_, i) => ({
      eventId: `${tag}-${i}`,
      memberId: member.id,
      kind: i % 2 ? "call" : "satisfaction",
      channel: "call_centre",
      occurredAt: new Date(now - (i + 1) * 60_000).toISOString(),
      ...(i % 2 ? {} : { score: 4 }),
      attributes: { agent: `A-${i % 7}`, resolved: i % 3 === 0 },
    }));
    events[5] = { ...(events[5] as object), memberId: "mem_00000000000000000000000000" };

    const first = await jsonOf<IngestResult>(await call("POST", "/v1/interactions", { body: { events } }), 200);
    expect(first).toMatchObject({ accepted: 299, duplicates: 0, rejected: 1 });
    expect(first.results[5]!.errors?.map((e) => e.field)).toEqual(["events.5.memberId"]);

    const again = await jsonOf<IngestResult>(await call("POST", "/v1/interactions", { body: { events } }), 200);
    expect(again).toMatchObject({ accepted: 0, duplicates: 299, rejected: 1 });

    const page = await jsonOf<{ items: Array<{ kind: string; score: number | null }>; nextCursor: string | null }>(await call("GET", `/v1/members/${member.id}/interactions?kind=satisfaction&limit=100`), 200);
    expect(page.items).toHaveLength(100);
    expect(page.items.every((i) => i.score === 4)).toBe(true);
    expect(page.nextCursor).not.toBeNull();

    const view = await jsonOf<{ profile: { interactionCount: number; satisfaction: number } }>(await call("GET", `/v1/members/${member.id}/profile?reason=support_call`), 200);
    // The enrolment and 299 events, each once.
    expect(view.profile).toMatchObject({ interactionCount: 300, satisfaction: 4 });
  });
});
