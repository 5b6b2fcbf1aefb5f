import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'policy_documents' })
export class PolicyDocumentEntity {
  @PrimaryColumn({ type: 'char', length: 64 })
  sha256!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  content!: string;

  @Column({ name: 'first_loaded_at', type: 'timestamptz' })
  firstLoadedAt!: Date;
}
