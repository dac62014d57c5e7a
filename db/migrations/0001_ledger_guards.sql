-- Ledger rows are immutable: corrections are new transactions that reference what they correct.
-- RAISE(ABORT) fails the statement and, inside an atomic unit, the whole unit (SQLite and D1).
CREATE TRIGGER `ledger_transactions_no_update` BEFORE UPDATE ON `ledger_transactions`
BEGIN SELECT RAISE(ABORT, 'ledger_immutable: ledger transactions cannot be changed'); END;
--> statement-breakpoint
CREATE TRIGGER `ledger_transactions_no_delete` BEFORE DELETE ON `ledger_transactions`
BEGIN SELECT RAISE(ABORT, 'ledger_immutable: ledger transactions cannot be deleted'); END;
--> statement-breakpoint
CREATE TRIGGER `ledger_entries_no_update` BEFORE UPDATE ON `ledger_entries`
BEGIN SELECT RAISE(ABORT, 'ledger_immutable: ledger entries cannot be changed'); END;
--> statement-breakpoint
CREATE TRIGGER `ledger_entries_no_delete` BEFORE DELETE ON `ledger_entries`
BEGIN SELECT RAISE(ABORT, 'ledger_immutable: ledger entries cannot be deleted'); END;
--> statement-breakpoint
CREATE TRIGGER `lot_movements_no_update` BEFORE UPDATE ON `lot_movements`
BEGIN SELECT RAISE(ABORT, 'ledger_immutable: lot movements cannot be changed'); END;
--> statement-breakpoint
CREATE TRIGGER `lot_movements_no_delete` BEFORE DELETE ON `lot_movements`
BEGIN SELECT RAISE(ABORT, 'ledger_immutable: lot movements cannot be deleted'); END;
