-- The W3C trace context of the routing that created an alert or a timer: sending the alert later, or firing the
-- escalation step minutes later, continues the case's one trace instead of starting a new one.
ALTER TABLE alerts ADD COLUMN traceparent text;
ALTER TABLE timers ADD COLUMN traceparent text;
