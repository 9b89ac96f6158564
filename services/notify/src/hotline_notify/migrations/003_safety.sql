-- The reported case's safety preferences, shown in every alert and on the responder page before the actions.
ALTER TABLE cases ADD COLUMN safety jsonb NOT NULL DEFAULT '{}';
