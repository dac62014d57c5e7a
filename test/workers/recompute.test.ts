/**
 * The recompute on D1: scores written in statements of at most 100 parameters, the analytics
 * read back, and the daily cron trigger running it.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker, { type Env as WorkerEnv } from "../../src/worker.ts";
import { call, expectStatus, givenCard, givenMember, givenPartner, jsonOf, unique } from "./client.ts";

async function buyers(count: number) {
  const partner = await givenPartner(`재계산 ${unique()}`);
  for (let i = 0; i < count; i++) {
    const member = await givenMember();
    const card = await givenCard(member.id);
    for (let n = 0; n <= i % 3; n++) {
      const body = { card: { number: card.number }, receiptId: `rc-${unique()}`, amountMinor: 10_000 * (1 + (i % 4)), currency: "KRW" };
      await expectStatus(await call("POST", "/v1/purchases", { token: partner.key, body }), 201);
    }
  }
}

const scoredMembers = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM member_scores").first<{ n: number }>())!.n;
const allMembers = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM members").first<{ n: number }>())!.n;

describe("recompute on D1", () => {
  it("scores every member and feeds the analytics", async () => {
    await buyers(30);
    const run = await jsonOf<{ members: number; buyers: number; bgNbd: { r: number } | null }>(await call("POST", "/v1/jobs/recompute"), 200);
    expect(run.members).toBe(await allMembers());
    expect(await scoredMembers()).toBe(run.members);
    const rfm = await jsonOf<{ scoredMembers: number; segments: Array<{ members: number }> }>(await call("GET", "/v1/analytics/rfm"), 200);
    expect(rfm.scoredMembers).toBe(run.buyers);
    expect(rfm.segments.reduce((n, s) => n + s.members, 0)).toBe(run.buyers);
    const pareto = await jsonOf<{ customers: number; gini: number }>(await call("GET", "/v1/analytics/pareto"), 200);
    expect(pareto.customers).toBe(run.buyers);
  });

  it("runs from the daily cron trigger", async () => {
    await buyers(3);
    await env.DB.prepare("DELETE FROM member_scores").run();
    const controller = createScheduledController({ scheduledTime: new Date(), cron: "0 18 * * *" });
    const ctx = createExecutionContext();
    const workerEnv: WorkerEnv = { ...env };
    await worker.scheduled(controller, workerEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(await scoredMembers()).toBe(await allMembers());
  });
});
