/* The floor for replay: read every record of a capture with libpcap and count it.
 * Build: gcc -O2 -o pcount bench/pcount.c -lpcap
 * Prints "PACKETS packets CAPLEN_BYTES bytes". */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *hdr;
    const u_char *data;
    unsigned long long packets = 0, bytes = 0;
    pcap_t *p;
    int r;

    if (argc != 2) {
        fprintf(stderr, "usage: pcount FILE\n");
        return 2;
    }
    p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == NULL) {
        fprintf(stderr, "pcount: %s\n", err);
        return 1;
    }
    while ((r = pcap_next_ex(p, &hdr, &data)) == 1) {
        packets++;
        bytes += hdr->caplen;
    }
    if (r == PCAP_ERROR) {
        fprintf(stderr, "pcount: %s: %s\n", argv[1], pcap_geterr(p));
        return 1;
    }
    printf("%llu packets %llu bytes\n", packets, bytes);
    pcap_close(p);
    return 0;
}
