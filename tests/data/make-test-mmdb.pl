#!/usr/bin/perl
# Writes two small GeoIP test databases for the MMDB reader unit tests:
#
#   maxmind-layout.mmdb     GeoIP2-Country-like: nested continent/country maps,
#                           IPv4 aliased into ::ffff:0:0/96, 2001::/32 (Teredo)
#                           and 2002::/16 (6to4), exactly as MaxMind ships it.
#                           A reader that walks the whole tree must follow the
#                           aliases at most once, or it counts IPv4 several times.
#   iplocation-layout.mmdb  ip-location-db "geo-whois-asn-country"-like: flat
#                           { country_code => 'DE' } records, IPv4 only in ::/96
#                           and no aliases.
#
# Both hold the same networks, plus a few layout-specific edge-case records.
#   city-layout.mmdb        GeoIP2-City-like: as the MaxMind layout, plus
#                           subdivisions[0].iso_code for geodns's region and
#                           regiongroup targeting (US states, a Russian oblast,
#                           a German Land), and networks without one.
#
# Usage: make-test-mmdb.pl OUTDIR      (needs Debian's libmaxmind-db-writer-perl)
use strict;
use warnings;

use File::Path qw(make_path);
use MaxMind::DB::Writer::Tree;

my $outdir = shift or die "usage: $0 OUTDIR\n";
make_path($outdir);

# network => [ country, continent code, continent name ].
# 81.1.0.0/16 sits next to 81.0.0.0/16 with the same data; the writer itself
# merges the two, so the file holds a single 81.0.0.0/15 record.
# GB is what the pool calls "uk".  XX is in no ISO 3166 table.
my @networks = (
    [ '81.0.0.0/16',  'DE', 'EU', 'Europe' ],
    [ '81.1.0.0/16',  'DE', 'EU', 'Europe' ],
    [ '82.0.0.0/16',  'FR', 'EU', 'Europe' ],
    [ '62.0.0.0/24',  'GB', 'EU', 'Europe' ],
    [ '24.0.0.0/16',  'US', 'NA', 'North America' ],
    [ '41.0.0.0/16',  'TD', 'AF', 'Africa' ],
    [ '1.0.0.0/24',   'AU', 'OC', 'Oceania' ],
    [ '133.0.0.0/16', 'JP', 'AS', 'Asia' ],
    [ '200.0.0.0/16', 'BR', 'SA', 'South America' ],
    [ '5.0.0.0/24',   'XX' ],    # unknown country, hence no continent either
    [ '2a01::/16',    'DE', 'EU', 'Europe' ],
    [ '2600::/16',    'US', 'NA', 'North America' ],
    [ '2400::/16',    'JP', 'AS', 'Asia' ],
);

# Every key maps to a map, an array of maps or a utf8_string; the writer needs the
# type of each.
my %is_map = map { $_ => 1 } qw(continent country registered_country names);
my $key_type = sub {
    return [ 'array', 'map' ] if $_[0] eq 'subdivisions';
    return $is_map{ $_[0] } ? 'map' : 'utf8_string';
};

sub write_db {
    my ( $file, $tree, @records ) = @_;

    # The metadata carries the build time; pin it so the output is
    # byte-for-byte reproducible (map keys are already written sorted).
    # Not 0: libmaxminddb's MMDB_open rejects build_epoch 0 as invalid metadata.
    $tree->_set_build_epoch(1_700_000_000);    # 2023-11-14T22:13:20Z
    $tree->insert_network(@$_) for @records;

    open my $fh, '>:raw', "$outdir/$file" or die "$outdir/$file: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$outdir/$file: $!\n";
}

write_db(
    'maxmind-layout.mmdb',
    MaxMind::DB::Writer::Tree->new(
        database_type         => 'GeoIP2-Country',
        description           => { en => 'pooledge test data, MaxMind layout' },
        languages             => ['en'],
        ip_version            => 6,
        record_size           => 24,
        alias_ipv6_to_ipv4    => 1,
        map_key_type_callback => $key_type,
    ),
    (
        map {
            my ( $net, $cc, $cont, $cont_name ) = @$_;
            [
                $net,
                {
                    $cont
                    ? ( continent => { code => $cont, names => { en => $cont_name } } )
                    : (),
                    country            => { iso_code => $cc },
                    registered_country => { iso_code => $cc },
                }
            ]
        } @networks
    ),
    # Real MaxMind DBs have records located only to a continent (EU) ...
    [ '6.0.0.0/24', { continent => { code => 'EU' } } ],
    # ... and records with a registered country but no (physical) country.
    [ '7.0.0.0/24', { registered_country => { iso_code => 'NL' } } ],
);

write_db(
    'iplocation-layout.mmdb',
    MaxMind::DB::Writer::Tree->new(
        database_type         => 'geo-whois-asn-country',
        description           => { en => 'pooledge test data, ip-location-db layout' },
        ip_version            => 6,
        record_size           => 24,
        alias_ipv6_to_ipv4    => 0,    # IPv4 lives only in ::/96
        map_key_type_callback => $key_type,
    ),
    ( map { [ $_->[0], { country_code => $_->[1] } ] } @networks ),
    # A record without any country_code key.
    [ '6.0.0.0/24', { other => 'x' } ],
);

# network => [ country, continent code, subdivision iso_code or undef ].
my @city = (
    [ '24.0.0.0/16',  'US', 'NA', 'CA' ],     # us-ca, group us-west
    [ '24.1.0.0/16',  'US', 'NA', 'NY' ],     # us-ny, group us-east
    [ '24.2.0.0/16',  'US', 'NA', 'TX' ],     # us-tx, group us-central
    [ '24.3.0.0/16',  'US', 'NA', undef ],    # located to the country only
    [ '81.0.0.0/16',  'DE', 'EU', 'BY' ],     # de-by, no group
    [ '81.1.0.0/16',  'DE', 'EU', undef ],
    [ '95.0.0.0/16',  'RU', 'EU', 'MOW' ],    # ru-mow, group ru-tfd
    [ '41.0.0.0/16',  'TD', 'AF', undef ],
    [ '2600::/16',    'US', 'NA', 'WA' ],     # us-wa, group us-west
);

write_db(
    'city-layout.mmdb',
    MaxMind::DB::Writer::Tree->new(
        database_type         => 'GeoIP2-City',
        description           => { en => 'pooledge test data, MaxMind City layout' },
        languages             => ['en'],
        ip_version            => 6,
        record_size           => 24,
        alias_ipv6_to_ipv4    => 1,
        map_key_type_callback => $key_type,
    ),
    map {
        my ( $net, $cc, $cont, $sub ) = @$_;
        [
            $net,
            {
                continent => { code     => $cont },
                country   => { iso_code => $cc },
                defined $sub ? ( subdivisions => [ { iso_code => $sub } ] ) : (),
            }
        ]
    } @city
);
