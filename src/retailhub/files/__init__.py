"""File-drop imports: the tenant folders, the SFTP and FTP servers that fill them, and the
import of each dropped file on the same job model as the REST imports."""
