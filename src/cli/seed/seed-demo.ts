/**
 * The demo coalition: a cinema chain, a café, a bookstore, a gas station and a convenience store,
 * and a few hundred members with cards. A fixed-seed PRNG makes it the same on every machine
 * (only the timestamps follow the clock), then three months of activity (seed-demo-commerce.ts).
 */
import { consentChannels } from "../../domain/members.ts";
import { cards, consents, memberBalances, members, partners } from "../../../db/schema.ts";
import type { Statement } from "../../../db/database.ts";
import type { Deps } from "../../deps.ts";
import { mulberry32 } from "../../domain/prng.ts";
import { newId, type RandomBytes } from "../../lib/ids.ts";
import { randomCardNumber } from "../../services/cards/cards.ts";
import { seedDemoCommerce } from "./seed-demo-commerce.ts";
import { DAY_MS } from "../../lib/time.ts";

export const DEMO_MEMBER_COUNT = 300;

// Settlement rates per point, in thousandths of a won: what each pays for points it issues and is
// reimbursed for points spent at it (the cinema, a big redeemer, takes a little less per point).
export const demoPartners = [
  { name: "별빛시네마", category: "cinema", pointCostMilli: 1_100, redemptionRateMilli: 900 },
  { name: "모퉁이커피", category: "cafe", pointCostMilli: 1_000, redemptionRateMilli: 1_000 },
  { name: "한결문고", category: "bookstore", pointCostMilli: 1_050, redemptionRateMilli: 950 },
  { name: "바른에너지 주유소", category: "gas_station", pointCostMilli: 1_200, redemptionRateMilli: 1_000 },
  { name: "하루편의점", category: "convenience_store", pointCostMilli: 1_000, redemptionRateMilli: 1_000 },
] as const;

const surnames = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권", "황", "안", "송", "류", "홍"];
const givenSyllables = ["민", "서", "준", "지", "현", "우", "은", "하", "도", "윤", "수", "예", "진", "영", "호", "연", "재", "유", "아", "성"];
const regions = ["서울 강남구", "서울 마포구", "서울 송파구", "서울 종로구", "부산 해운대구", "대구 수성구", "인천 연수구", "광주 서구", "대전 유성구", "경기 성남시", "경기 수원시", "제주 제주시"];
const tiers = ["basic", "basic", "basic", "basic", "silver", "silver", "gold", "vip"];
const genders = ["female", "male", "female", "male", "undisclosed"] as const;

export async function seedDemo(deps: Deps) {
  const rand = mulberry32(0xda9601);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const bytes: RandomBytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  const now = deps.clock();
  const { db } = deps.database;
  const statements: Statement[] = [];

  const partnerRows = demoPartners.map((partner) => {
    const createdAt = now - 400 * DAY_MS;
    return { id: newId("partner", createdAt, bytes), ...partner, createdAt, updatedAt: createdAt };
  });
  for (const row of partnerRows) statements.push(db.insert(partners).values(row));
  const activeCards: Array<{ number: string; memberId: string }> = [];

  for (let n = 1; n <= DEMO_MEMBER_COUNT; n++) {
    const createdAt = now - Math.floor(rand() * 700 + 1) * DAY_MS;
    const id = newId("member", createdAt, bytes);
    const name = pick(surnames) + pick(givenSyllables) + pick(givenSyllables);
    const year = 1960 + Math.floor(rand() * 46);
    const birthDate = `${year}-${String(1 + Math.floor(rand() * 12)).padStart(2, "0")}-${String(1 + Math.floor(rand() * 28)).padStart(2, "0")}`;
    // Every member has a phone; most also an email. Numbers are unique by construction.
    const phone = `+8210${String(20000000 + n * 7919).padStart(8, "0")}`;
    statements.push(
      db.insert(members).values({
        id,
        name,
        email: rand() < 0.85 ? `demo${String(n).padStart(3, "0")}@example.com` : null,
        phone,
        birthDate,
        gender: pick(genders),
        region: pick(regions),
        tier: pick(tiers),
        createdAt,
        updatedAt: createdAt,
      }),
      db.insert(memberBalances).values({ memberId: id, updatedAt: createdAt }),
    );
    if (rand() < 0.55) {
      for (const channel of consentChannels) {
        if (rand() < 0.6) {
          statements.push(db.insert(consents).values({ id: newId("consent", createdAt, bytes), memberId: id, purpose: "marketing", channel, granted: true, source: "demo-signup", recordedAt: createdAt }));
        }
      }
    }
    const card = { id: newId("card", createdAt, bytes), memberId: id, number: randomCardNumber(bytes), issuedAt: createdAt, statusChangedAt: createdAt };
    const fate = rand();
    if (fate < 0.03) {
      // A lost card, replaced by a new one.
      const replacedAt = createdAt + Math.floor((now - createdAt) / 2);
      const successor = { id: newId("card", replacedAt, bytes), memberId: id, number: randomCardNumber(bytes), status: "active" as const, replacedBy: null, issuedAt: replacedAt, statusChangedAt: replacedAt };
      statements.push(
        db.insert(cards).values({ ...card, status: "replaced", replacedBy: successor.id, statusChangedAt: replacedAt }),
        db.insert(cards).values(successor),
      );
    } else {
      statements.push(db.insert(cards).values({ ...card, status: fate < 0.05 ? "blocked" : "active", replacedBy: null }));
      if (fate >= 0.05) activeCards.push({ number: card.number, memberId: id });
    }
  }

  // Chunks keep each unit well under D1's limits; a re-run starts from an empty database anyway.
  for (let i = 0; i < statements.length; i += 200) {
    await deps.database.atomic(statements.slice(i, i + 200));
  }
  const commerce = await seedDemoCommerce(deps, { rand, bytes, partners: partnerRows, cards: activeCards });
  return { partners: demoPartners.length, members: DEMO_MEMBER_COUNT, ...commerce };
}
