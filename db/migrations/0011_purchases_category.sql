-- The partner's business category at the time of the sale: a purchase without items counts in the
-- profile under it, and its refunds must take back from the same one after the partner is
-- re-categorised. Purchases made before this migration get the partner's category as it is now.
ALTER TABLE `purchases` ADD `category` text;--> statement-breakpoint
UPDATE `purchases` SET `category` = (SELECT `category` FROM `partners` WHERE `partners`.`id` = `purchases`.`partner_id`);
