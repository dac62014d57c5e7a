-- Replaces purchases_member_time with an index that also covers the earned and clawed points: the
-- sums of a member's earning since a time (caps and tiers, on every purchase) never leave the index.
DROP INDEX `purchases_member_time`;--> statement-breakpoint
CREATE INDEX `purchases_member_earned` ON `purchases` (`member_id`,`occurred_at`,`earned_points`,`clawed_points`);