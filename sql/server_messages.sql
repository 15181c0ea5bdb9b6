--
-- server_messages: the few outputs that are PostgreSQL's own messages and
-- differ between its majors.  expected/server_messages.out holds them as
-- PostgreSQL 15 words them, expected/server_messages_1.out as 17 and 18 do
-- (16, which Debian does not package, is untested).  Everything else in the
-- suite is the same on every major.
--
\ir sql/fixtures/extension.sql

-- cf.cache_size out of its range (17 and 18 print the unit with the bounds;
-- the setting is checked once cf's library is loaded)
LOAD 'cf';
SET cf.cache_size = -1;
SET cf.cache_size = '2049GB';
SHOW cf.cache_size;

-- a source in a schema that does not exist: the regclass argument's input
-- function says so (17 and 18: the relation does not exist)
SELECT * FROM cf_train('no_such_schema.ratings');
