-- Why an upload failed: the file was rejected (the user must fix it), or it could not be processed
-- (storage or database trouble after every retry; an operator can replay the parse job).
ALTER TABLE uploads
    ADD COLUMN failure_kind TEXT CHECK (failure_kind IN ('rejected', 'processing'));
UPDATE uploads SET failure_kind = 'rejected' WHERE status = 'failed';
