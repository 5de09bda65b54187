-- 007: the outbox of alert deliveries (geo/outbox.go). Every alert step
-- (a row of alerts written by OpenAlert or ChangeAlert) puts a row here
-- in the same transaction, so that no step is lost between its commit
-- and its hand-over to the WeCom robot. Dispatchers on any instance claim
-- due rows with a lease (SELECT … FOR UPDATE SKIP LOCKED, then leased =
-- now + lease): two instances never claim the same row while its lease
-- runs, and a row whose claimant died is claimed again once the lease
-- has run out. A delivered row is deleted; the deliveries table keeps
-- each attempt's result.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id      text COLLATE "C" NOT NULL,
    alert_version bigint NOT NULL CHECK (alert_version > 0),
    created       timestamptz NOT NULL,
    due           timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    leased        timestamptz,
    UNIQUE (alert_id, alert_version)
);
CREATE INDEX outbox_due_idx ON outbox (due, id);

---- create above / drop below ----

DROP TABLE outbox;
