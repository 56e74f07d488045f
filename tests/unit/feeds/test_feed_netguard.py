import pytest

from connectors.feeds.netguard import BlockedAddress, ensure_public_url, is_public_address


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.5", "172.16.9.9", "169.254.169.254",
                                     "::1", "fe80::1", "fc00::1", "0.0.0.0", "::ffff:127.0.0.1", "224.0.0.1"])
def test_non_public_addresses(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"])
def test_public_addresses(address):
    assert is_public_address(address)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "http://localhost/", "http://[::1]/",
                                 "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd",
                                 "http://0x7f000001/"])
def test_urls_to_private_hosts_are_blocked(url):
    with pytest.raises(BlockedAddress):
        ensure_public_url(url)


def test_public_ip_literal_passes_without_dns():
    ensure_public_url("https://93.184.216.34/article")
