//! Region from the client IP, from a MaxMind-format database file the
//! admin points skvoz at (GeoLite2-City, DB-IP's free City Lite, …).
//! Nothing is downloaded: without a file, visits simply have no region.

use maxminddb::{geoip2, Reader};
use std::net::IpAddr;
use std::path::Path;

/// Where an IP is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// ISO 3166-1 country code.
    pub country: Option<String>,
    /// First-level subdivision (oblast, state), Russian name when present.
    pub region: Option<String>,
    /// City, Russian name when present.
    pub city: Option<String>,
}

/// An opened database.
pub struct GeoIp {
    reader: Reader<Vec<u8>>,
}

impl GeoIp {
    /// Opens a `.mmdb` file, reading it into memory.
    pub fn open(path: &Path) -> Result<GeoIp, String> {
        Reader::open_readfile(path)
            .map(|reader| GeoIp { reader })
            .map_err(|e| format!("cannot open GeoIP database {}: {e}", path.display()))
    }

    /// Looks an address up; private and unknown addresses give `None`.
    pub fn locate(&self, ip: IpAddr) -> Option<Location> {
        let found = self.reader.lookup(ip).ok()?;
        let city: geoip2::City<'_> = found.decode().ok()??;
        let name = |n: &geoip2::Names<'_>| n.russian.or(n.english).map(str::to_owned);
        let loc = Location {
            country: city.country.iso_code.map(str::to_owned),
            region: city.subdivisions.first().and_then(|s| name(&s.names)),
            city: name(&city.city.names),
        };
        (loc != Location::default()).then_some(loc)
    }
}

#[cfg(test)]
mod tests {
    use maxminddb_writer::paths::IpAddrWithMask;
    use maxminddb_writer::Database;

    /// A City-format database made here, with one network.
    fn city_db() -> std::path::PathBuf {
        let mut db = Database::default();
        let record = serde_json::json!({
            "country": {"iso_code": "RU", "names": {"en": "Russia", "ru": "Россия"}},
            "subdivisions": [{"iso_code": "SVE", "names": {"en": "Sverdlovsk Oblast", "ru": "Свердловская область"}}],
            "city": {"names": {"en": "Yekaterinburg", "ru": "Екатеринбург"}}
        });
        let data = db.insert_value(record).expect("value");
        db.insert_node("5.5.5.0/24".parse::<IpAddrWithMask>().expect("net"), data);
        let path = std::env::temp_dir().join(format!("skvoz-city-{}.mmdb", std::process::id()));
        let file = std::fs::File::create(&path).expect("file");
        db.write_to(file).expect("write");
        path
    }

    #[test]
    fn locates_an_address_in_a_city_database() {
        let path = city_db();
        let geo = super::GeoIp::open(&path).expect("open");
        let loc = geo.locate("5.5.5.5".parse().expect("ip")).expect("found");
        assert_eq!(loc.country.as_deref(), Some("RU"));
        assert_eq!(loc.region.as_deref(), Some("Свердловская область"));
        assert_eq!(loc.city.as_deref(), Some("Екатеринбург"));
        assert!(geo.locate("8.8.8.8".parse().expect("ip")).is_none());
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn a_missing_or_broken_file_is_a_clear_error() {
        let err = super::GeoIp::open(std::path::Path::new("/nonexistent/city.mmdb")).err();
        assert!(err.is_some_and(|e| e.contains("/nonexistent/city.mmdb")));
        let dir = std::env::temp_dir().join(format!("skvoz-geo-{}.mmdb", std::process::id()));
        std::fs::write(&dir, b"not a database").ok();
        assert!(super::GeoIp::open(&dir).is_err());
        let _ = std::fs::remove_file(&dir);
    }
}
