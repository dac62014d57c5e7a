/**
 * Settlement between the operator and its partners, as pure maths: a month's bounds in the
 * program's time zone, money for points at a partner's rates, and what each statement line owes.
 *
 * Sign convention: a net amount is positive when the partner owes the operator and negative when
 * the operator owes the partner. Partners pay for the points they issue and are reimbursed for the
 * points spent at them; refunds undo both at the rates of the purchase they refund.
 */

const MINUTE_MS = 60_000;

/** "2026-03" → the instants the local month starts and ends (exclusive), in UTC epoch ms. */
export function monthRange(month: string, utcOffsetMinutes: number): { fromMs: number; toMs: number } {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (!match) throw new Error(`not a YYYY-MM month: ${month}`);
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  const local = (y: number, m: number) => {
    // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
    const d = new Date(0);
    d.setUTCFullYear(y, m, 1);
    return d.getTime() - utcOffsetMinutes * MINUTE_MS;
  };
  return { fromMs: local(year, index), toMs: local(year, index + 1) };
}

/**
 * Money for points at a rate in thousandths of a minor unit per point:
 * round-half-up(points × rateMilli / 1000), in exact integer arithmetic. Negative inputs round
 * half away from zero, so a credit is always the mirror of the charge it undoes.
 */
export function pointsToMinor(points: number, rateMilli: number): number {
  const product = BigInt(points) * BigInt(rateMilli);
  const magnitude = (product < 0n ? -product : product) + 500n;
  const rounded = Number(magnitude / 1000n);
  return product < 0n ? -rounded : rounded;
}

export interface SettlementPoints {
  /** Points the partner issued on purchases. */
  issued: number;
  /** Issued points clawed back by refunds and voids. */
  reversed: number;
  /** Points members spent at the partner. */
  redeemed: number;
  /** Spent points given back to members by refunds and voids. */
  restored: number;
}

/** Minor units of the program's currency. Every field is ≥ 0; the sign lives in netMinor. */
export interface SettlementAmounts {
  /** The partner pays for the points it issued (partner → operator). */
  issuanceChargeMinor: number;
  /** … and is credited for issued points a refund clawed back (operator → partner). */
  reversalCreditMinor: number;
  /** The partner is reimbursed for points spent at it (operator → partner). */
  redemptionReimbursementMinor: number;
  /** … and pays back what refunds restored to members (partner → operator). */
  restorationChargeMinor: number;
  /** The partner's own offers: its cost, shown for the record, never settled. */
  partnerFundedDiscountsMinor: number;
  partnerFundedDiscountsReversedMinor: number;
  /** Discounts the operator funds are reimbursed to the partner (operator → partner) … */
  operatorFundedDiscountsMinor: number;
  /** … and paid back when a refund takes them back (partner → operator). */
  operatorFundedDiscountsReversedMinor: number;
}

/** One ledger transaction as settlement sees it: raw point movements, rates and discounts. */
export interface SettlementMovement {
  kind: "purchase" | "refund" | "void";
  /** Sum of the transaction's entries on issuance:{partner} (negative when issuing). */
  issuanceEntryPoints: number;
  /** Sum of its entries on redemption:{partner} (positive when spent there). */
  redemptionEntryPoints: number;
  /** The purchase's rates, fixed when it was made: refunds settle at them too. */
  pointCostMilli: number;
  redemptionRateMilli: number;
  /** Discount given (a purchase) or taken back (a refund), and the operator's share of it. */
  discountMinor: number;
  operatorFundedMinor: number;
}

export interface SettlementLine {
  points: SettlementPoints;
  amounts: SettlementAmounts;
  netMinor: number;
}

/** What one transaction adds to a statement. Each amount is rounded on its own line. */
export function settleMovement(m: SettlementMovement): SettlementLine {
  const isPurchase = m.kind === "purchase";
  // A purchase issues and spends; a refund or void only undoes. The entries' signs say which,
  // and the kind decides the column, so a column can never be fed from the wrong side.
  const points: SettlementPoints = {
    issued: isPurchase ? -m.issuanceEntryPoints : 0,
    reversed: isPurchase ? 0 : m.issuanceEntryPoints,
    redeemed: isPurchase ? m.redemptionEntryPoints : 0,
    restored: isPurchase ? 0 : -m.redemptionEntryPoints,
  };
  const partnerFunded = m.discountMinor - m.operatorFundedMinor;
  const amounts: SettlementAmounts = {
    issuanceChargeMinor: pointsToMinor(points.issued, m.pointCostMilli),
    reversalCreditMinor: pointsToMinor(points.reversed, m.pointCostMilli),
    redemptionReimbursementMinor: pointsToMinor(points.redeemed, m.redemptionRateMilli),
    restorationChargeMinor: pointsToMinor(points.restored, m.redemptionRateMilli),
    partnerFundedDiscountsMinor: isPurchase ? partnerFunded : 0,
    partnerFundedDiscountsReversedMinor: isPurchase ? 0 : partnerFunded,
    operatorFundedDiscountsMinor: isPurchase ? m.operatorFundedMinor : 0,
    operatorFundedDiscountsReversedMinor: isPurchase ? 0 : m.operatorFundedMinor,
  };
  return { points, amounts, netMinor: netOf(amounts) };
}

/** Positive: the partner owes the operator; negative: the operator owes the partner. */
export function netOf(a: SettlementAmounts): number {
  return (
    a.issuanceChargeMinor -
    a.reversalCreditMinor -
    a.redemptionReimbursementMinor +
    a.restorationChargeMinor -
    a.operatorFundedDiscountsMinor +
    a.operatorFundedDiscountsReversedMinor
  );
}

/** Column-wise sums of lines: a statement's totals, so it adds up to the unit. */
export function sumLines(lines: readonly SettlementLine[]): SettlementLine {
  const points: SettlementPoints = { issued: 0, reversed: 0, redeemed: 0, restored: 0 };
  const amounts: SettlementAmounts = {
    issuanceChargeMinor: 0,
    reversalCreditMinor: 0,
    redemptionReimbursementMinor: 0,
    restorationChargeMinor: 0,
    partnerFundedDiscountsMinor: 0,
    partnerFundedDiscountsReversedMinor: 0,
    operatorFundedDiscountsMinor: 0,
    operatorFundedDiscountsReversedMinor: 0,
  };
  let netMinor = 0;
  for (const line of lines) {
    for (const key of Object.keys(points) as Array<keyof SettlementPoints>) points[key] += line.points[key];
    for (const key of Object.keys(amounts) as Array<keyof SettlementAmounts>) amounts[key] += line.amounts[key];
    netMinor += line.netMinor;
  }
  return { points, amounts, netMinor };
}
