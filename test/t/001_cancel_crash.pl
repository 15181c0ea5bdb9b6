#
# Cancellation, timeouts and crashes in the middle of cf_train.
#
# A training is interrupted in each of its three phases -- reading the
# source, the SGD epochs, storing the rows -- by pg_cancel_backend, by
# statement_timeout and by SIGKILL of its backend.  After each, the model it
# was replacing must be exactly as before (a fingerprint of all its rows),
# and after a SIGKILL the server must have restarted and recovered.  Then a
# series of cancels in one session must not make the backend grow.
#
# The phases are reached deterministically, polling rather than sleeping:
#   reading   the source is a view that sleeps 10 ms a row (wait event PgSleep)
#   training  100000 epochs over 400,000 ratings; the log shows "epoch 2:"
#             (verbose => true: every epoch is logged)
#   storing   a statement trigger on cf_user_factors sleeps, in that session
#             only (wait event PgSleep)
#   parallel  the epochs on two parallel workers and the leader; the log
#             shows the workers started and "epoch 2:"; after a cancel no
#             worker may be left running
#   sampling  bayes's Gibbs sampling on a parallel worker and the leader;
#             the log shows "epoch 2:" (its second sample)
#
# The measurements (time from the cancel to the error, memory before and
# after repeated cancels) are printed with diag(); nothing asserts a time.
#
# Runs from a copy of test/t: it must not read other files of the checkout.
#
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('cf');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
maintenance_work_mem = '256MB'
log_min_messages = notice
restart_after_crash = on
});
$node->start;

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION cf;
CREATE TABLE big AS SELECT * FROM cf_synthetic_ratings(20000, 2000, 400000, seed => 1);
CREATE TABLE small AS SELECT * FROM cf_synthetic_ratings(300, 100, 4000, seed => 2);
-- the source that takes forever to read
CREATE VIEW slow AS SELECT * FROM big WHERE pg_sleep(0.01) IS NOT NULL;
-- a pause while storing, in sessions that ask for it
CREATE FUNCTION pause_store() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('test.pause_store', true) = 'on' THEN
    PERFORM pg_sleep(600);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER pause_store BEFORE INSERT ON cf_user_factors
  FOR EACH STATEMENT EXECUTE FUNCTION pause_store();
-- every stored value of a model, as one string
CREATE FUNCTION fingerprint(m text) RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(' ',
    (SELECT format('version %s users %s items %s epochs %s', version, users, items, epochs)
     FROM cf_models WHERE name = m),
    (SELECT md5(string_agg(format('%s %s %s %s', user_id, bias, factors, rated_items), ','
                           ORDER BY user_id)) FROM cf_user_factors WHERE model = m),
    (SELECT md5(string_agg(format('%s %s %s', item_id, bias, factors), ',' ORDER BY item_id))
     FROM cf_item_factors WHERE model = m),
    (SELECT md5(string_agg(format('%s %s %s', epoch, loss, rmse), ',' ORDER BY epoch))
     FROM cf_training_log WHERE model = m))
$$;
SELECT count(*) FROM cf_train('small', model => 'm', factors => 8, epochs => 5, verbose => false);
});

my $fingerprint = $node->safe_psql('postgres', "SELECT fingerprint('m')");
like($fingerprint, qr/^version \d+ users 300 items 100 epochs 5 \w+ \w+ \w+$/,
	'the model to protect is stored');

# The training to interrupt in each phase, replacing model m.
my %phase = (
	reading => {
		sql => "SELECT * FROM cf_train('slow', model => 'm', epochs => 1, verbose => true);",
		wait => \&wait_for_sleep,
	},
	training => {
		sql =>
		  "SELECT * FROM cf_train('big', model => 'm', factors => 16, epochs => 100000, verbose => true);",
		wait => \&wait_for_epoch,
	},
	storing => {
		sql => "SET test.pause_store = on; "
		  . "SELECT * FROM cf_train('big', model => 'm', factors => 16, epochs => 1, verbose => true);",
		wait => \&wait_for_sleep,
	},
	# the epochs on two parallel workers beside the leader
	parallel => {
		sql =>
		  "SELECT * FROM cf_train('big', model => 'm', factors => 16, epochs => 100000, workers => 2,"
		  . " verbose => true);",
		wait => \&wait_for_parallel_epoch,
	},
	# Gibbs sampling (bayes) on a parallel worker beside the leader
	sampling => {
		sql =>
		  "SELECT * FROM cf_train('big', model => 'm', algorithm => 'bayes', factors => 16,"
		  . " epochs => 100000, workers => 1, verbose => true);",
		wait => \&wait_for_epoch,
	},);
my @phases = qw(reading training storing parallel sampling);

# wait_for_sleep(pid): until the backend sleeps in pg_sleep.
sub wait_for_sleep
{
	my ($pid, $log_offset) = @_;
	$node->poll_query_until('postgres',
		"SELECT wait_event = 'PgSleep' FROM pg_stat_activity WHERE pid = $pid")
	  or die "backend $pid never reached pg_sleep";
}

# wait_for_epoch(pid, offset): until the log shows the second epoch.
sub wait_for_epoch
{
	my ($pid, $log_offset) = @_;
	$node->wait_for_log(qr/epoch 2:/, $log_offset);
}

# wait_for_parallel_epoch(pid, offset): until the log shows the workers
# started and the second epoch.
sub wait_for_parallel_epoch
{
	my ($pid, $log_offset) = @_;
	$node->wait_for_log(qr/training on 2 parallel workers/, $log_offset);
	$node->wait_for_log(qr/epoch 2:/, $log_offset);
}

# no_workers_left(): until no parallel worker of cf runs any more.
sub no_workers_left
{
	$node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'parallel worker'")
	  or die "parallel workers outlived their leader";
}

# start_training(session, phase): send the phase's training, return at once.
sub start_training
{
	my ($session, $name) = @_;
	$session->{stderr} = '';
	$session->query_until(qr/started/, "\\echo started\n$phase{$name}{sql}\n");
}

# wait_stderr(session, regexp): pump until the session's stderr matches;
# returns the seconds it took.
sub wait_stderr
{
	my ($session, $regexp) = @_;
	my $t0 = time;
	$session->{run}->pump
	  until $session->{stderr} =~ $regexp || $session->{timeout}->is_expired;
	die "timed out waiting for $regexp" if $session->{timeout}->is_expired;
	return time - $t0;
}

# ---------------------------------------------------------------------------
# pg_cancel_backend and statement_timeout, in each phase
# ---------------------------------------------------------------------------
my $session = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $session->query_safe('SELECT pg_backend_pid()');

foreach my $name (@phases)
{
	# cancel
	my $offset = -s $node->logfile;
	start_training($session, $name);
	$phase{$name}{wait}->($pid, $offset);
	my $t0 = time;
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	wait_stderr($session, qr/canceling statement due to user request/);
	my $latency = time - $t0;
	$session->query('RESET test.pause_store');
	no_workers_left();
	pass("pg_cancel_backend while $name ends the training");
	diag(sprintf("cancel while %s: error after %.3f s", $name, $latency));
	is($node->safe_psql('postgres', "SELECT fingerprint('m')"),
		$fingerprint, "after a cancel while $name, the old model is intact");

	# statement_timeout: 1 s, unless the phase needs longer to be reached
	# (storing comes after reading and one epoch over 400,000 ratings)
	my $timeout = $name eq 'storing' ? '5s' : '1s';
	$offset = -s $node->logfile;
	$session->query("SET statement_timeout = '$timeout'");
	start_training($session, $name);
	wait_stderr($session, qr/canceling statement due to statement timeout/);
	my $reached = slurp_file($node->logfile, $offset);
	$session->query('RESET statement_timeout');
	$session->query('RESET test.pause_store');
	no_workers_left();
	pass("statement_timeout while $name ends the training");
	diag(sprintf(
			"timeout %s while %s: %d epochs logged before it fired",
			$timeout, $name, scalar(() = $reached =~ /epoch \d+:/g)));
	is($node->safe_psql('postgres', "SELECT fingerprint('m')"),
		$fingerprint, "after a timeout while $name, the old model is intact");
}

# ---------------------------------------------------------------------------
# Repeated cancels in one session: the backend does not grow
# ---------------------------------------------------------------------------
# memory(): the session's own memory contexts (bytes) and its RSS (kB).
sub memory
{
	$session->{stderr} = '';
	my $contexts = $session->query_safe(
		'SELECT sum(total_bytes) FROM pg_backend_memory_contexts');
	my $rss = 0;
	if (open(my $fh, '<', "/proc/$pid/status"))
	{
		while (<$fh>)
		{
			$rss = $1 if /^VmRSS:\s+(\d+)\s+kB/;
		}
		close $fh;
	}
	return ($contexts, $rss);
}

# cancel_once(): start a training, cancel it in its second epoch.
sub cancel_once
{
	my $offset = -s $node->logfile;
	start_training($session, 'training');
	wait_for_epoch($pid, $offset);
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	wait_stderr($session, qr/canceling statement due to user request/);
	$session->query('SELECT 1');
}

my $cycles = 10;
cancel_once() for 1 .. 2;    # warm up: caches, plans, malloc arenas
my ($ctx0, $rss0) = memory();
cancel_once() for 1 .. $cycles;
my ($ctx1, $rss1) = memory();
diag(sprintf(
		"%d cancels: memory contexts %d -> %d bytes (%+d), RSS %d -> %d kB (%+d)",
		$cycles, $ctx0, $ctx1, $ctx1 - $ctx0, $rss0, $rss1, $rss1 - $rss0));
# One training holds about 12 MB (ratings, sorted copy, factors): a leak of
# it per cancel would add over 100 MB.
cmp_ok($ctx1 - $ctx0, '<', 256 * 1024,
	"$cycles cancels: the session's memory contexts do not grow");
cmp_ok($rss1 - $rss0, '<', 16 * 1024, "$cycles cancels: the backend's RSS does not grow");
is($node->safe_psql('postgres', "SELECT fingerprint('m')"),
	$fingerprint, "after $cycles cancels, the old model is intact");
$session->quit;

# ---------------------------------------------------------------------------
# SIGKILL of the training backend, in each phase: the server restarts
# ---------------------------------------------------------------------------
sub crash_in
{
	my ($name, $sql) = @_;
	my $victim = $node->background_psql('postgres', on_error_stop => 0);
	my $vpid = $victim->query_safe('SELECT pg_backend_pid()');
	my $offset = -s $node->logfile;
	$victim->{stderr} = '';
	$victim->query_until(qr/started/, "\\echo started\n$sql\n");
	$phase{$name}{wait}->($vpid, $offset);
	kill 'KILL', $vpid or die "could not kill $vpid: $!";
	# psql loses its connection and gives up
	eval {
		$victim->{run}->pump while $victim->{run}->pumpable;
		$victim->{run}->finish;
	};
	$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
	$node->poll_query_until('postgres', 'SELECT true')
	  or die "the server did not come back";
	pass("SIGKILL while $name: the server restarted");
}

foreach my $name (@phases)
{
	crash_in($name, $phase{$name}{sql});
	is($node->safe_psql('postgres', "SELECT fingerprint('m')"),
		$fingerprint, "after a SIGKILL while $name, the old model is intact");
}

# a first training of a model, killed: no trace of it
crash_in('training',
	"SELECT * FROM cf_train('big', model => 'new', factors => 16, epochs => 100000, verbose => true);");
is( $node->safe_psql(
		'postgres',
		"SELECT (SELECT count(*) FROM cf_models WHERE name = 'new') + "
		  . "(SELECT count(*) FROM cf_user_factors WHERE model = 'new')"),
	'0',
	'after a SIGKILL of its first training, a model does not exist');

# and the recovered server trains and serves
is( $node->safe_psql(
		'postgres',
		"SELECT users FROM cf_train('small', model => 'after', epochs => 2, verbose => false)"),
	'300',
	'the recovered server trains');
is($node->safe_psql('postgres', "SELECT count(*) FROM cf_recommend(1, 5, 'm')"),
	'5', 'and serves the old model');

$node->stop;
done_testing();
