-- The demo catalogue; change a price while the example runs and the next refresh picks it up.
CREATE TABLE IF NOT EXISTS products (id text PRIMARY KEY, name text NOT NULL, price numeric(10, 2) NOT NULL);
INSERT INTO products (id, name, price) VALUES ('p1', 'Kettle', 24.95), ('p2', 'Teapot', 18.50), ('p3', 'Mug', 6.00)
ON CONFLICT (id) DO NOTHING;
