-- The outbox worker (issue 10): a lease per claimed message, so a crash
-- mid-delivery leaves a lease that expires instead of a stuck message, and
-- the reason a message was deliberately not sent.
ALTER TABLE outbox ADD COLUMN leased_until INTEGER;
ALTER TABLE outbox ADD COLUMN skip_reason TEXT;
CREATE INDEX outbox_kind_status ON outbox(destination_kind, status);
