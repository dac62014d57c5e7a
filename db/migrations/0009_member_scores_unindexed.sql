-- Every score changes daily: keeping indexes on the RFM segment and the CLV cost 9 s of a
-- million-member recompute, and what reads those columns scans the table in under a second.
DROP INDEX IF EXISTS `member_scores_segment`;--> statement-breakpoint
DROP INDEX IF EXISTS `member_scores_clv`;
