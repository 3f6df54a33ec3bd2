#!/usr/bin/perl
# An interconnect peer of the SMPP tests: Debian's Net::SMPP as an ESME.
#   esme.pl PORT SYSID PW bind [tx|rx|trx]      prints "bind status=0x.."
#   esme.pl PORT SYSID PW submit SRC_TON SRC DST_TON DST TEXT [receipt]
#       prints "status=0x.. id=ID"; with receipt, waits for the delivery
#       receipt on the same (transceiver) bind and prints "receipt TEXT"
#   esme.pl PORT SYSID PW submit-tx ...   the same over a transmitter bind
#       (which cannot take the receipt: callbar holds it for the peer)
#   esme.pl PORT SYSID PW burst N SRC DST      N submits sent before any
#       answer is read: prints "status=0x.. count=K" per status
#   esme.pl PORT SYSID PW rx SECONDS            bind_receiver, print receipts
use strict;
use warnings;
use IO::Select;
use Net::SMPP;

my ($port, $sysid, $pw, $what, @a) = @ARGV;
$| = 1;
my %bind = (tx => 'new_transmitter', rx => 'new_receiver', trx => 'new_transceiver');
my $kind = $what eq 'bind' ? ($a[0] || 'trx') : $what eq 'rx' ? 'rx'
    : $what eq 'submit-tx' ? 'tx' : 'trx';
my $m = $bind{$kind};
my ($c, $resp) = Net::SMPP->$m('127.0.0.1', port => $port, system_id => $sysid,
	password => $pw, smpp_version => 0x34, interface_version => 0x34, timeout => 10);
if (!$c || !$resp) {
	print "bind status=none\n";
	exit 1;
}
printf "bind status=0x%x\n", $resp->{status} if $what eq 'bind';
exit($resp->{status} ? 1 : 0) if $what eq 'bind' || $resp->{status};

if ($what eq 'submit' || $what eq 'submit-tx') {
	my ($ston, $src, $dton, $dst, $text, $rcpt) = @a;
	my $r = $c->submit_sm(source_addr_ton => $ston, source_addr_npi => 1,
	    source_addr => $src, dest_addr_ton => $dton, dest_addr_npi => 1,
	    destination_addr => $dst, short_message => $text,
	    registered_delivery => $rcpt ? 1 : 0);
	printf "status=0x%x id=%s\n", $r->{status}, $r->{message_id} // '';
	if ($rcpt && !$r->{status} && $what eq 'submit') {
		my $sel = IO::Select->new($c);
		my $got = 0;
		while ($sel->can_read(10)) {
			my $p = $c->read_pdu() or last;
			if ($p->{cmd} == 0x00000005) {
				$c->deliver_sm_resp(seq => $p->{seq}, message_id => '');
				print "receipt $p->{short_message}\n";
				$got = 1;
				last;
			}
		}
		print "receipt none\n" unless $got;
	}
} elsif ($what eq 'burst') {
	my ($n, $src, $dst) = @a;
	for my $i (1 .. $n) {
		$c->submit_sm(source_addr_ton => 1, source_addr_npi => 1, source_addr => $src,
		    dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => $dst,
		    short_message => "burst $i", async => 1);
	}
	my %st;
	for my $i (1 .. $n) {
		my $p = $c->read_pdu() or last;
		next unless $p->{cmd} == 0x80000004;
		$st{$p->{status}}++;
	}
	printf "status=0x%x count=%d\n", $_, $st{$_} for sort { $a <=> $b } keys %st;
} elsif ($what eq 'rx') {
	my ($secs) = @a;
	my $sel = IO::Select->new($c);
	my $end = time + $secs;
	while (time < $end && $sel->can_read($end - time)) {
		my $p = $c->read_pdu() or last;
		if ($p->{cmd} == 0x00000005) {
			$c->deliver_sm_resp(seq => $p->{seq}, message_id => '');
			print "receipt $p->{short_message}\n";
		} elsif ($p->{cmd} == 0x00000015) {
			$c->enquire_link_resp(seq => $p->{seq});
		}
	}
}
$c->unbind();
