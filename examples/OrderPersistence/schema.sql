CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, customer text NOT NULL, total numeric(12, 2) NOT NULL);
CREATE TABLE IF NOT EXISTS order_lines (order_id text NOT NULL REFERENCES orders (id), line_no int NOT NULL, sku text NOT NULL,
  quantity int NOT NULL, price numeric(10, 2) NOT NULL, PRIMARY KEY (order_id, line_no));
CREATE TABLE IF NOT EXISTS order_audit (order_id text PRIMARY KEY, total numeric(12, 2) NOT NULL);
CREATE TABLE IF NOT EXISTS order_archive (topic text NOT NULL, kafka_partition int NOT NULL, kafka_offset bigint NOT NULL,
  order_id text NOT NULL, document jsonb NOT NULL, PRIMARY KEY (topic, kafka_partition, kafka_offset));
