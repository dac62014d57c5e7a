-- Counts and sums of a member's purchases in a window (segment rules) read within this index, not
-- through every interaction of the member (segment entries and exits pile up with each refresh).
CREATE INDEX `interactions_member_kind` ON `interactions` (`member_id`,`kind`,`occurred_at`,`amount_minor`);