// Wrapper for `rust fragment=engine` blocks: an `engine` with an HMAC secret.
use keyfob::{Config, Engine};

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::new(Config::with_secret("change-me-to-32-or-more-random-bytes!"))?;
    BLOCK
    Ok(())
}
