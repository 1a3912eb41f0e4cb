#!/usr/bin/perl
# Writes crypt-vectors.txt: "hex(password) hash" lines made by the system
# crypt(3) (libxcrypt on Debian 12): DES, $1$, $5$ and $6$, with password
# lengths 0..130 bytes (across the SHA block sizes), 8-bit bytes, every
# salt length and a few rounds= values. Deterministic (srand 42).
use strict;
srand(42);
my @alpha = ('.', '/', '0'..'9', 'A'..'Z', 'a'..'z');
sub salt { my $n = shift; join '', map { $alpha[int(rand(64))] } 1..$n }
sub pw { my $n = shift; join '', map { chr(1 + int(rand(255))) } 1..$n }
open my $out, '>', 'crypt-vectors.txt' or die;
for my $i (0..59) {
    my $p = pw($i % 14);
    print $out unpack('H*', $p), ' ', crypt($p, salt(2)), "\n";
}
for my $i (0..39) {
    my $p = pw(int(rand(40)));
    print $out unpack('H*', $p), ' ', crypt($p, '$1$' . salt(1 + $i % 8)), "\n";
}
for my $id (5, 6) {
    for my $i (0..39) {
        my $p = pw(($i * 13) % 131);
        my $s = salt(1 + $i % 16);
        my $r = ($i % 5 == 0) ? 'rounds=' . (1000 + $i * 7) . '$' : '';
        print $out unpack('H*', $p), ' ', crypt($p, "\$$id\$$r$s"), "\n";
    }
}
close $out;
