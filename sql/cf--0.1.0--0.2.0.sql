/* cf: upgrade from 0.1.0 to 0.2.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION cf UPDATE TO '0.2.0'" to load this file. \quit
