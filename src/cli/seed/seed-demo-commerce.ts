/**
 * The demo coalition at work: stores, settlement rates, a realistic set of offers, and three
 * months of purchases (some paid partly in points, some with offers) with refunds and voids,
 * recorded through the same services a till uses — so statements, the ledger and the console
 * have real content. Runs on a simulated clock that walks through the past days.
 */
import { stores } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { newId, type RandomBytes } from "../../lib/ids.ts";
import { createOffer, type OfferInput } from "../../services/offers/offers.ts";
import type { Principal } from "../../domain/principal.ts";
import { mintCardToken } from "../../services/cards/card-tokens.ts";
import type { PurchaseInput, PurchaseItem } from "../../services/purchases/plan.ts";
import { recordPurchase } from "../../services/purchases/record.ts";
import { refundPurchase } from "../../services/purchases/refund.ts";
import { DAY_MS, isoTime } from "../../lib/time.ts";

type PRNG = () => number;

const DAYS = 90;
const PURCHASES_PER_DAY = 12;

export interface DemoPartner {
  id: string;
  category: string;
}

const storesByCategory: Record<string, Array<{ code: string; name: string; address: string; latitude: number; longitude: number }>> = {
  cinema: [
    { code: "GN-01", name: "강남점", address: "서울 강남구 강남대로 438", latitude: 37.5013, longitude: 127.0262 },
    { code: "HD-02", name: "홍대점", address: "서울 마포구 양화로 147", latitude: 37.5565, longitude: 126.9239 },
  ],
  cafe: [
    { code: "SS-01", name: "성수점", address: "서울 성동구 아차산로 17", latitude: 37.5446, longitude: 127.0557 },
    { code: "JR-02", name: "종로점", address: "서울 종로구 종로 51", latitude: 37.5704, longitude: 126.9861 },
    { code: "HU-03", name: "해운대점", address: "부산 해운대구 해운대해변로 264", latitude: 35.1587, longitude: 129.1604 },
  ],
  bookstore: [{ code: "GH-01", name: "광화문점", address: "서울 종로구 종로 1", latitude: 37.5709, longitude: 126.9779 }],
  gas_station: [
    { code: "BD-01", name: "분당점", address: "경기 성남시 분당구 성남대로 331", latitude: 37.3827, longitude: 127.1189 },
    { code: "SW-02", name: "수원점", address: "경기 수원시 팔달구 효원로 266", latitude: 37.2636, longitude: 127.0286 },
  ],
  convenience_store: [{ code: "YS-01", name: "여의도점", address: "서울 영등포구 여의대로 108", latitude: 37.5251, longitude: 126.9249 }],
};

/** The sale a member of each kind of partner typically makes. */
function basket(category: string, rand: PRNG): { amountMinor: number; items?: PurchaseItem[] } {
  const step = (min: number, max: number, unit: number) => Math.round((min + rand() * (max - min)) / unit) * unit;
  switch (category) {
    case "cinema": {
      const tickets = 1 + Math.floor(rand() * 3);
      const items: PurchaseItem[] = [{ sku: "ticket", category: "ticket", amountMinor: tickets * 14_000, quantity: tickets }];
      if (rand() < 0.5) items.push({ sku: "popcorn", category: "snack", amountMinor: 6_500, quantity: 1 });
      return { amountMinor: items.reduce((n, i) => n + i.amountMinor, 0), items };
    }
    case "cafe":
      return { amountMinor: step(4_000, 12_000, 500) };
    case "bookstore":
      return { amountMinor: step(12_000, 45_000, 1_000) };
    case "gas_station":
      return { amountMinor: step(40_000, 95_000, 1_000) };
    default:
      return { amountMinor: step(2_000, 15_000, 100) };
  }
}

function demoOffers(partnerOf: (category: string) => DemoPartner): Array<OfferInput> {
  return [
    {
      partnerId: partnerOf("cinema").id,
      name: "골드·VIP 회원 영화 20% 할인",
      description: "Gold and VIP members: 20% off tickets, up to ₩10,000",
      reward: { kind: "percent", percentBps: 2_000, maxDiscountMinor: 10_000 },
      conditions: { tiers: ["gold", "vip"], categories: ["ticket"] },
      limits: { perMemberPerDay: 1 },
    },
    {
      partnerId: partnerOf("cafe").id,
      name: "3,000포인트로 음료 한 잔",
      description: "A free drink (up to ₩4,500) for 3,000 points",
      reward: { kind: "points_reward", pointsCost: 3_000, rewardValueMinor: 4_500 },
      limits: { perMemberPerWeek: 1 },
    },
    {
      partnerId: partnerOf("bookstore").id,
      name: "평일 10% 할인",
      description: "10% off on weekdays",
      reward: { kind: "percent", percentBps: 1_000 },
      conditions: { weekdays: [1, 2, 3, 4, 5] },
    },
    {
      partnerId: partnerOf("gas_station").id,
      name: "5만원 이상 주유 2,000원 할인",
      reward: { kind: "amount", amountMinor: 2_000 },
      conditions: { minSpendMinor: 50_000 },
      limits: { perMemberPerMonth: 4 },
      operatorFundedBps: 5_000,
    },
    {
      name: "단골 VIP 5% 추가 할인",
      description: "The coalition's thank-you to VIP members, while the budget lasts",
      reward: { kind: "percent", percentBps: 500, maxDiscountMinor: 3_000 },
      conditions: { tiers: ["vip"] },
      budget: { count: 400, amountMinor: 800_000 },
    },
  ];
}

const seeder: Principal = { role: "admin", staffId: "demo-seed" };

/** A refund or void waiting for its day. */
interface PendingReturn {
  day: number;
  purchaseId: string;
  amountMinor: number | null;
}

export async function seedDemoCommerce(deps: Deps, input: { rand: PRNG; bytes: RandomBytes; partners: DemoPartner[]; cards: Array<{ number: string; memberId: string }> }) {
  const { rand, bytes, partners, cards } = input;
  // Members who spend points show the QR card, which a signing key signs (the CLI's seed-demo
  // may run before the server ever did).
  await deps.keys.ensure();
  const now = deps.clock();
  const start = now - DAYS * DAY_MS;
  let simulated = start;
  // The services read the time from deps: walking the clock through the past books each sale then.
  const sim: Deps = { ...deps, clock: () => simulated };
  const partnerOf = (category: string) => partners.find((p) => p.category === category)!;

  const storeIds = new Map<string, string[]>();
  const storeRows = partners.flatMap((partner) =>
    (storesByCategory[partner.category] ?? []).map((store) => {
      const id = newId("store", start, bytes);
      storeIds.set(partner.id, [...(storeIds.get(partner.id) ?? []), id]);
      return { id, partnerId: partner.id, ...store, status: "active" as const, createdAt: start, updatedAt: start };
    }),
  );
  await deps.database.atomic(storeRows.map((row) => deps.database.db.insert(stores).values(row)));
  const offers = [];
  for (const offer of demoOffers(partnerOf)) offers.push(await createOffer(sim, seeder, { ...offer, validFrom: isoTime(start) }));
  const drink = offers.find((o) => o.reward.kind === "points_reward")!;

  let purchases = 0;
  let refunds = 0;
  const returns: PendingReturn[] = [];
  // A few members buy far more than the rest, as in any customer base (the top 20% bring most).
  const someMember = () => cards[Math.floor(rand() ** 2.5 * cards.length)]!;
  for (let day = 0; day < DAYS; day++) {
    const sales = Array.from({ length: PURCHASES_PER_DAY + Math.floor(rand() * 6) }, (_, i) => {
      const partner = partners[Math.floor(rand() * partners.length)]!;
      const sale = basket(partner.category, rand);
      // Some pay part with points: a few hundred, as members with ordinary balances do.
      const redeem = rand() < 0.15 ? 100 * (1 + Math.floor(rand() * 5)) : 0;
      const wantsDrink = partner.category === "cafe" && rand() < 0.15;
      const shops = storeIds.get(partner.id) ?? [];
      const shopper = someMember();
      return {
        partnerId: partner.id,
        card: { number: shopper.number },
        shopper,
        receiptId: `D${String(day).padStart(2, "0")}-${String(i).padStart(3, "0")}`,
        ...(shops.length > 0 && { storeId: shops[Math.floor(rand() * shops.length)] }),
        currency: "KRW",
        ...sale,
        ...(redeem > 0 && { redeemPoints: redeem }),
        ...(wantsDrink && { offerIds: [drink.id] }),
      };
    });
    const fates = sales.map(() => rand());
    // The day's sales at its noon, together: they share commits as a busy day's tills would.
    simulated = start + day * DAY_MS + 3 * 3_600_000;
    // The card is typed in, but spending points needs the member at the till: those who spend
    // show the QR card.
    const presented: PurchaseInput[] = await Promise.all(
      sales.map(async ({ shopper, ...sale }) =>
        sale.redeemPoints === undefined && sale.offerIds === undefined ? sale : { ...sale, card: { token: (await mintCardToken(sim, shopper.memberId)).token } },
      ),
    );
    const results = await Promise.all(
      presented.map((sale) =>
        recordPurchase(sim, seeder, sale, null).catch((error: unknown) => {
          // A member short of points, or a card that was blocked: a till would be told so too.
          if (error instanceof AppError) return null;
          throw error;
        }),
      ),
    );
    results.forEach((result, i) => {
      if (!result) return;
      purchases++;
      const fate = fates[i]!;
      if (fate < 0.04) returns.push({ day: day + 1 + Math.floor(fate * 100), purchaseId: result.purchaseId, amountMinor: fate < 0.015 ? null : Math.ceil(sales[i]!.amountMinor / 3) });
    });
    simulated = start + day * DAY_MS + 20 * 3_600_000;
    for (const back of returns.filter((r) => r.day === day)) {
      await refundPurchase(sim, seeder, back.purchaseId, back.amountMinor === null ? { void: true } : { amountMinor: back.amountMinor }, null);
      refunds++;
    }
  }
  return { stores: storeRows.length, offers: offers.length, purchases, refunds };
}
