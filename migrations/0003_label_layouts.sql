-- Version 4: the back office's label layouts, listed by name. `layout` is the label driver's
-- JSON document (size, resolution, elements), written whole by each `label_layout_saved`.

CREATE TABLE label_layout (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    layout TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX label_layout_by_name ON label_layout(name COLLATE NOCASE);
