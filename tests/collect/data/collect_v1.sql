-- A collector database as espat (schema version 1) wrote it, dumped with sqlite3 .iterdump(): the upgrade test loads it.
BEGIN TRANSACTION;
CREATE TABLE devices (
	device VARCHAR(32) NOT NULL, 
	token_sha256 VARCHAR(64), 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (device)
);
INSERT INTO "devices" VALUES('greenhouse-uno-1','e746252530cb4d48dc09abae3f5e3d5f83a9853625e9daa1d66869ad9b3bb4c0',1.7965892869515249729e+09);
CREATE TABLE readings (
	id INTEGER NOT NULL, 
	device VARCHAR(32) NOT NULL, 
	incarnation VARCHAR(8) NOT NULL, 
	boot BIGINT NOT NULL, 
	seq BIGINT NOT NULL, 
	uptime_ms BIGINT NOT NULL, 
	dropped BIGINT NOT NULL, 
	values_json TEXT NOT NULL, 
	received_at FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT readings_key UNIQUE (device, incarnation, boot, seq)
);
INSERT INTO "readings" VALUES(1,'greenhouse-uno-1','1a2b3c4d',3,1,60012,0,'{"a0_c":21.0}',1796000000.0);
INSERT INTO "readings" VALUES(2,'greenhouse-uno-1','1a2b3c4d',3,2,60012,0,'{"a0_c":22.0}',1796000000.0);
INSERT INTO "readings" VALUES(3,'greenhouse-uno-1','1a2b3c4d',3,4,60012,0,'{"a0_c":24.0}',1796000000.0);
CREATE TABLE schema_version (
	version INTEGER NOT NULL, 
	description TEXT NOT NULL, 
	applied_at FLOAT NOT NULL, 
	PRIMARY KEY (version)
);
INSERT INTO "schema_version" VALUES(1,'readings keyed by device+incarnation+boot+seq; device tokens',1.79658928693431305884e+09);
CREATE INDEX readings_by_device_time ON readings (device, received_at);
COMMIT;
