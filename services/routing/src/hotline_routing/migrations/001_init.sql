-- Every routing decision, with its explanation: re-routing (next center not yet tried) reads this.
CREATE TABLE decisions (
    case_id           uuid NOT NULL,
    reported_event_id uuid NOT NULL,
    center_id         uuid,
    rule              text NOT NULL,
    distance_km       double precision,
    priority          text,
    decided_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, reported_event_id)
);
