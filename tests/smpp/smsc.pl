#!/usr/bin/perl
# The home SMSC of the SMPP tests: Debian's Net::SMPP (libnet-smpp-perl) in
# server mode, no test-only encoder.  It accepts binds with one system_id
# and password, answers submit_sm with message ids M1, M2, ..., writes one
# line per submit_sm to the log (ids, addresses, data_coding and the text
# in hex, so a test can check what reached the SMSC), sends a delivery
# receipt when registered_delivery asks for one, and sends a deliver_sm for
# each line of a file NAME.mo put in the control folder
# ("SRC_TON SRC DST DC HEXTEXT [ESM_CLASS]"; the lines of one file are sent
# one after the other, so the parts of a long message come together).
#   smsc.pl PORT SYSTEM_ID PASSWORD LOG CONTROL_DIR [slow_ms]
use strict;
use warnings;
use IO::Select;
use Net::SMPP;

my ($port, $sysid, $pw, $logf, $ctl, $slow) = @ARGV;
$slow ||= 0;
$| = 1;
my $srv = Net::SMPP->new_listen('127.0.0.1', port => $port, smpp_version => 0x34,
	interface_version => 0x34, listen => 16)
	or die "smsc.pl: cannot listen on $port: $!";
open(my $log, '>>', $logf) or die "smsc.pl: $logf: $!";
$log->autoflush(1);
print "smsc.pl: listening on $port\n";
my $sel = IO::Select->new($srv);
my %bound;
my $next_id = 0;
my $msg_seq = 1000;
# ids of earlier runs stay unique when the SMSC is restarted
if (open(my $st, '<', "$logf.next")) { $next_id = <$st> + 0; close $st }

sub save_next { open(my $st, '>', "$logf.next") or return; print $st $next_id; close $st }

sub handle {
	my ($c) = @_;
	my $pdu = $c->read_pdu() or return 0;
	my $cmd = $pdu->{cmd};
	if ($cmd == 0x00000009 || $cmd == 0x00000002 || $cmd == 0x00000001) {
		my $ok = $pdu->{system_id} eq $sysid && $pdu->{password} eq $pw;
		my $m = $cmd == 9 ? 'bind_transceiver_resp' : $cmd == 2 ? 'bind_transmitter_resp'
		    : 'bind_receiver_resp';
		$c->$m(system_id => 'smsc', seq => $pdu->{seq}, status => $ok ? 0 : 0x0E);
		print $log "bind $pdu->{system_id} " . ($ok ? "ok" : "refused") . "\n";
		$bound{$c} = $c if $ok;
		return $ok ? 1 : 0;
	} elsif ($cmd == 0x00000004 || $cmd == 0x00000103) {
		select(undef, undef, undef, $slow / 1000) if $slow;
		my $id = 'M' . ++$next_id;
		save_next();
		my $resp = $cmd == 4 ? 'submit_sm_resp' : 'data_sm_resp';
		$c->$resp(message_id => $id, seq => $pdu->{seq});
		my $text = defined $pdu->{short_message} ? $pdu->{short_message} : '';
		$text = $pdu->{message_payload} if !length($text) && defined $pdu->{message_payload};
		printf $log "submit %s src=%d:%s dst=%d:%s dc=%d esm=%d text=%s\n", $id,
		    $pdu->{source_addr_ton}, $pdu->{source_addr}, $pdu->{dest_addr_ton},
		    $pdu->{destination_addr}, $pdu->{data_coding}, $pdu->{esm_class},
		    unpack('H*', $text);
		if (($pdu->{registered_delivery} || 0) & 1) {
			$c->deliver_sm(source_addr_ton => $pdu->{dest_addr_ton},
			    source_addr => $pdu->{destination_addr},
			    dest_addr_ton => $pdu->{source_addr_ton},
			    destination_addr => $pdu->{source_addr}, esm_class => 0x04,
			    short_message => "id:$id sub:001 dlvrd:001 submit date:2405011200 "
			      . "done date:2405011200 stat:DELIVRD err:000 text:",
			    seq => $msg_seq++, async => 1);
			print $log "receipt $id\n";
		}
	} elsif ($cmd == 0x00000015) {
		$c->enquire_link_resp(seq => $pdu->{seq});
	} elsif ($cmd == 0x00000006) {
		$c->unbind_resp(seq => $pdu->{seq});
		return 0;
	} elsif ($cmd == 0x80000005) {
		printf $log "deliver_sm_resp status=0x%x\n", $pdu->{status};
	}
	return 1;
}

sub send_mo {
	for my $f (glob("$ctl/*.mo")) {
		open(my $fh, '<', $f) or next;
		my @lines = <$fh>;
		close $fh;
		unlink $f;
		my ($c) = values %bound;
		next unless $c;
		for my $l (@lines) {
			chomp $l;
			my ($ton, $src, $dst, $dc, $hex, $esm) = split ' ', $l;
			$c->deliver_sm(source_addr_ton => $ton, source_addr_npi => 1,
			    source_addr => $src, dest_addr_ton => 0, dest_addr_npi => 0,
			    destination_addr => $dst, esm_class => $esm || 0, data_coding => $dc,
			    short_message => pack('H*', $hex), seq => $msg_seq++, async => 1);
			print $log "mo $src $dst\n";
		}
	}
}

while (1) {
	for my $fh ($sel->can_read(0.1)) {
		if ($fh == $srv) {
			my $c = $srv->accept or next;
			$sel->add($c);
			next;
		}
		if (!handle($fh)) {
			delete $bound{$fh};
			$sel->remove($fh);
			close $fh;
		}
	}
	send_mo();
}
