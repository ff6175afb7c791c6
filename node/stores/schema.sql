-- sosopay: once-only processing of payment notifications across worker processes
-- (PostgresIdempotencyStore). One row per notification (Notification.idempotency_key):
--   claimed  a worker is running the handler; the claim is live until lease_until, after
--            which another delivery may take it over (the first worker is presumed dead)
--   done     the handler finished; kept until completed_at + the retention period
-- Apply it once (sosopay.stores.apply_schema, the Node package's applySchema, or psql -f).
-- The same file ships in the Python and the Node package.
CREATE TABLE IF NOT EXISTS sosopay_notifications (
    id           text        PRIMARY KEY,
    state        text        NOT NULL CHECK (state IN ('claimed', 'done')),
    token        text,
    lease_until  timestamptz,
    claimed_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    attempts     integer     NOT NULL DEFAULT 1,
    CHECK ((state = 'claimed') = (token IS NOT NULL AND lease_until IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS sosopay_notifications_completed_at_idx
    ON sosopay_notifications (completed_at);
